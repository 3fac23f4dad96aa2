package io.github.reliablekafka.idempotency;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts guard checks in {@code reliable.kafka.idempotency.checks} (counter), tags
 * {@code result=new|duplicate|fallback} and {@code store=redis|jdbc|two-tier}. A two-tier check that fell back to
 * the ledger alone counts once as {@code fallback} and once as {@code new} or {@code duplicate}.
 */
public final class MicrometerGuardListener implements GuardListener {

	private final MeterRegistry registry;

	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	/**
	 * Create the counters.
	 * @param registry where they are registered
	 */
	public MicrometerGuardListener(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void checked(String store, String result) {
		this.counters.computeIfAbsent(store + '\u0000' + result, (id) -> Counter
			.builder("reliable.kafka.idempotency.checks")
			.description("Idempotency guard checks of reliable listeners")
			.tag("store", store)
			.tag("result", result)
			.register(this.registry)).increment();
	}

}
