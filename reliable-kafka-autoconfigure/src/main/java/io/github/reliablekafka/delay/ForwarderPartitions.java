package io.github.reliablekafka.delay;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;

/**
 * What the delay forwarder remembers of each tier partition between polls: until when it is paused (its head is not
 * due, or its last forward failed), how many forwards of it failed in a row (the back-off), and which of its records
 * were forwarded after an earlier one failed (not committed yet, so a retry from the failed one must not send them
 * again). Used by the forwarder thread only.
 */
final class ForwarderPartitions {

	private static final long FIRST_RETRY_MILLIS = 1_000;

	private static final long MAX_RETRY_MILLIS = 60_000;

	private final Map<TopicPartition, Long> resumeAt = new HashMap<>();

	private final Map<TopicPartition, Set<Long>> forwardedAhead = new HashMap<>();

	private final Map<TopicPartition, Integer> failuresInARow = new HashMap<>();

	/** Pause a partition until a time. */
	void pauseUntil(TopicPartition partition, long at) {
		this.resumeAt.put(partition, at);
	}

	/**
	 * Take the paused partitions whose time has come.
	 * @return the partitions to resume
	 */
	List<TopicPartition> takeDue(long now) {
		List<TopicPartition> due = new ArrayList<>();
		this.resumeAt.forEach((partition, at) -> {
			if (at <= now) {
				due.add(partition);
			}
		});
		due.forEach(this.resumeAt::remove);
		return due;
	}

	/** How long to poll: until the next paused partition's time, at most {@code max}. */
	long pollWait(long now, long max) {
		long wait = max;
		for (long at : this.resumeAt.values()) {
			wait = Math.min(wait, Math.max(0, at - now));
		}
		return wait;
	}

	/** Whether a record was forwarded after an earlier record of its partition failed. */
	boolean forwardedAhead(TopicPartition partition, long offset) {
		Set<Long> ahead = this.forwardedAhead.get(partition);
		return ahead != null && ahead.contains(offset);
	}

	/** A record forwarded after an earlier one of its partition failed: not to be sent again on the retry. */
	void forwardedAfterAFailure(TopicPartition partition, long offset) {
		this.forwardedAhead.computeIfAbsent(partition, (key) -> new HashSet<>()).add(offset);
	}

	/** A record's forward is behind the committed offset now: nothing to remember of it. */
	void committed(TopicPartition partition, long offset) {
		Set<Long> ahead = this.forwardedAhead.get(partition);
		if (ahead != null) {
			ahead.remove(offset);
		}
	}

	/**
	 * A forward of a partition failed.
	 * @return how long to wait before it is tried again: 1 s, twice as long each time, at most 60 s
	 */
	long failed(TopicPartition partition) {
		int failures = this.failuresInARow.merge(partition, 1, Integer::sum);
		return Math.min(FIRST_RETRY_MILLIS << Math.min(failures - 1, 6), MAX_RETRY_MILLIS);
	}

	/** Every forward of a partition's poll went through. */
	void succeeded(TopicPartition partition) {
		this.failuresInARow.remove(partition);
		Set<Long> ahead = this.forwardedAhead.get(partition);
		if (ahead != null && ahead.isEmpty()) {
			this.forwardedAhead.remove(partition);
		}
	}

	/** Partitions revoked: whoever gets them starts from their committed offsets. */
	void forget(Collection<TopicPartition> partitions) {
		partitions.forEach(this.resumeAt::remove);
		partitions.forEach(this.forwardedAhead::remove);
		partitions.forEach(this.failuresInARow::remove);
	}

	/** Partitions assigned: none of them is paused by the consumer, whatever was planned before. */
	void assigned(Collection<TopicPartition> partitions) {
		partitions.forEach(this.resumeAt::remove);
	}

	/** A new consumer starts from the committed offsets: forget everything. */
	void clear() {
		this.resumeAt.clear();
		this.forwardedAhead.clear();
		this.failuresInARow.clear();
	}

}
