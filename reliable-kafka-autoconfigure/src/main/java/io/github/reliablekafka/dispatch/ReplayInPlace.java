package io.github.reliablekafka.dispatch;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;

import io.github.reliablekafka.internal.SeekCallbacks;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.ConsumerSeekAware.ConsumerSeekCallback;

/**
 * Replays a dispatched partition in place: stops dispatching its records, lets those in flight finish (their frontier
 * is acknowledged), then has the consumer seek; records polled before the seek are dropped, and dispatching starts
 * over from the seek's first record.
 */
final class ReplayInPlace {

	private final String listener;

	private final Function<TopicPartition, @Nullable PartitionLanes> states;

	private final SeekCallbacks callbacks = new SeekCallbacks();

	ReplayInPlace(String listener, Function<TopicPartition, @Nullable PartitionLanes> states) {
		this.listener = listener;
		this.states = states;
	}

	/** The consumer thread's seek callback (see {@code ConsumerSeekAware}). */
	SeekCallbacks callbacks() {
		return this.callbacks;
	}

	/** The partitions this instance's consumers hold now. */
	Set<TopicPartition> assignedPartitions() {
		Set<TopicPartition> assigned = new HashSet<>();
		this.callbacks.partitions().forEach((partition) -> {
			PartitionLanes state = this.states.apply(partition);
			if (state != null && state.owned) {
				assigned.add(partition);
			}
		});
		return assigned;
	}

	/**
	 * Replay a partition from an offset.
	 * @param partition the partition
	 * @param offset the offset
	 * @param timeout how long the records in flight may take to finish
	 * @throws IllegalStateException when the partition is not assigned here or its records did not finish in time
	 */
	void seek(TopicPartition partition, long offset, Duration timeout) throws InterruptedException {
		PartitionLanes state = this.states.apply(partition);
		ConsumerSeekCallback callback = this.callbacks.of(partition);
		if (state == null || callback == null || !state.owned) {
			throw new IllegalStateException("Partition " + partition + " is not assigned to this instance");
		}
		int inFlight = state.prepareReplay(offset, System.nanoTime() + timeout.toNanos());
		if (inFlight >= 0) {
			throw new IllegalStateException("Listener '" + this.listener + "': partition " + partition + " still has "
					+ inFlight + " record(s) in flight after " + timeout.toMillis() + " ms; not replayed");
		}
		callback.seek(partition.topic(), partition.partition(), offset);
	}

	/** Forget the partitions' seek callbacks. */
	void revoked(Collection<TopicPartition> partitions) {
		this.callbacks.revoked(partitions);
	}

}
