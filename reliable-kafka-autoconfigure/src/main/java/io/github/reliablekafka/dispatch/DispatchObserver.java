package io.github.reliablekafka.dispatch;

import java.util.function.ToDoubleFunction;

import org.apache.kafka.common.TopicPartition;

/**
 * Publishes a dispatcher's gauges (Micrometer when present).
 */
public interface DispatchObserver {

	/** Publishes nothing. */
	DispatchObserver NONE = new DispatchObserver() {

		@Override
		public void dispatcher(String listener, DispatchMonitor dispatcher) {
		}

		@Override
		public void partitionAssigned(String listener, TopicPartition partition,
				ToDoubleFunction<TopicPartition> commitGap, ToDoubleFunction<TopicPartition> commitMap) {
		}

		@Override
		public void partitionRevoked(String listener, TopicPartition partition) {
		}

	};

	/**
	 * A dispatcher started: publish its container-wide gauges.
	 * @param listener the listener id
	 * @param dispatcher what its gauges read
	 */
	void dispatcher(String listener, DispatchMonitor dispatcher);

	/**
	 * A partition was assigned: publish its commit gap and commit map.
	 * @param listener the listener id
	 * @param partition the partition
	 * @param commitGap records finished beyond the partition's commit frontier
	 * @param commitMap offsets named as finished beyond the frontier in the metadata of the partition's latest commit
	 */
	void partitionAssigned(String listener, TopicPartition partition, ToDoubleFunction<TopicPartition> commitGap,
			ToDoubleFunction<TopicPartition> commitMap);

	/**
	 * A partition was revoked: remove its gauges.
	 * @param listener the listener id
	 * @param partition the partition
	 */
	void partitionRevoked(String listener, TopicPartition partition);

}
