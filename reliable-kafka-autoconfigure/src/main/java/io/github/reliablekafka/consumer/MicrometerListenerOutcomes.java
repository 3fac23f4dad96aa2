package io.github.reliablekafka.consumer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts listener outcomes in {@code reliable.kafka.consumer.records} (counter), tags
 * {@code result=success|retried|dead-lettered|skipped}, {@code listener} (the listener id) and {@code group-type}
 * ({@code classic} or {@code share}): one {@code success},
 * {@code dead-lettered} or {@code skipped} per record, one {@code retried} per failed attempt that is tried again.
 */
public final class MicrometerListenerOutcomes implements ListenerOutcomes {

	private final MeterRegistry registry;

	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	/**
	 * Create the counters.
	 * @param registry where they are registered
	 */
	public MicrometerListenerOutcomes(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void record(String listener, String result) {
		record(listener, GroupType.CLASSIC, result);
	}

	@Override
	public void record(String listener, GroupType group, String result) {
		this.counters.computeIfAbsent(listener + '\u0000' + group + '\u0000' + result, (id) -> Counter
			.builder("reliable.kafka.consumer.records")
			.description("Outcomes of records handled by reliable listeners")
			.tag("listener", listener)
			.tag("group-type", group.name().toLowerCase(java.util.Locale.ROOT))
			.tag("result", result)
			.register(this.registry)).increment();
	}

}
