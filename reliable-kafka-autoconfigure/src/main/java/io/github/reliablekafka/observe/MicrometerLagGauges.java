package io.github.reliablekafka.observe;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Publishes each lag snapshot as gauge {@code reliable.kafka.consumer.lag} with tags {@code group}, {@code topic} and
 * {@code partition}.
 */
public final class MicrometerLagGauges implements LagSnapshotListener {

	private final MeterRegistry registry;

	private final Map<String, AtomicLong> lags = new ConcurrentHashMap<>();

	/**
	 * Create the gauges.
	 * @param registry where they are registered
	 */
	public MicrometerLagGauges(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void refreshed(LagSnapshot snapshot) {
		for (PartitionLag lag : snapshot.partitions()) {
			String key = lag.group() + "\u0000" + lag.topic() + "\u0000" + lag.partition();
			this.lags.computeIfAbsent(key, (k) -> {
				AtomicLong value = new AtomicLong();
				Gauge.builder("reliable.kafka.consumer.lag", value, AtomicLong::get)
					.description("Records between a consumer group's committed offset and the partition's end")
					.tags("group", lag.group(), "topic", lag.topic(), "partition", Integer.toString(lag.partition()))
					.register(this.registry);
				return value;
			}).set(lag.lag());
		}
	}

}
