package io.github.reliablekafka.dispatch;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.apache.kafka.common.TopicPartition;

/**
 * Publishes the dispatchers' gauges: {@code reliable.kafka.dispatch.in-flight} (records dispatched and not finished),
 * {@code reliable.kafka.dispatch.lane.depth} (the deepest lane's queue), {@code reliable.kafka.dispatch.oldest.age}
 * (seconds since the oldest unfinished record was dispatched), tagged {@code listener}; and
 * {@code reliable.kafka.dispatch.commit.gap} (records finished beyond the commit frontier) and
 * {@code reliable.kafka.dispatch.commit.map} (offsets named as finished beyond the frontier in the metadata of the
 * partition's latest commit, which its next owner skips), tagged {@code listener}, {@code topic} and
 * {@code partition}, while the partition is assigned.
 */
public final class MicrometerDispatchObserver implements DispatchObserver {

	private final MeterRegistry registry;

	private final Map<String, List<Meter>> partitionGauges = new ConcurrentHashMap<>();

	/**
	 * Create the observer.
	 * @param registry where gauges are registered
	 */
	public MicrometerDispatchObserver(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void dispatcher(String listener, DispatchMonitor dispatcher) {
		Gauge.builder("reliable.kafka.dispatch.in-flight", dispatcher, DispatchMonitor::inFlight)
			.description("Records dispatched to worker lanes and not finished")
			.tag("listener", listener)
			.register(this.registry);
		Gauge.builder("reliable.kafka.dispatch.lane.depth", dispatcher, DispatchMonitor::maxLaneDepth)
			.description("Records waiting in the deepest worker lane")
			.tag("listener", listener)
			.register(this.registry);
		Gauge.builder("reliable.kafka.dispatch.oldest.age", dispatcher, DispatchMonitor::oldestAgeSeconds)
			.description("Seconds since the oldest unfinished record was dispatched")
			.baseUnit("seconds")
			.tag("listener", listener)
			.register(this.registry);
	}

	@Override
	public void partitionAssigned(String listener, TopicPartition partition, ToDoubleFunction<TopicPartition> commitGap,
			ToDoubleFunction<TopicPartition> commitMap) {
		Tags tags = Tags.of("listener", listener, "topic", partition.topic(), "partition",
				String.valueOf(partition.partition()));
		this.partitionGauges.computeIfAbsent(key(listener, partition), (k) -> List.of(
				Gauge.builder("reliable.kafka.dispatch.commit.gap", partition, commitGap)
					.description("Records finished beyond the partition's commit frontier")
					.tags(tags)
					.register(this.registry),
				Gauge.builder("reliable.kafka.dispatch.commit.map", partition, commitMap)
					.description("Offsets named as finished beyond the frontier in the partition's latest commit")
					.tags(tags)
					.register(this.registry)));
	}

	@Override
	public void partitionRevoked(String listener, TopicPartition partition) {
		List<Meter> gauges = this.partitionGauges.remove(key(listener, partition));
		if (gauges != null) {
			gauges.forEach(this.registry::remove);
		}
	}

	private static String key(String listener, TopicPartition partition) {
		return listener + '\u0000' + partition;
	}

}
