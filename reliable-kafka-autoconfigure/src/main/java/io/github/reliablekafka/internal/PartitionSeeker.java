package io.github.reliablekafka.internal;

import java.time.Duration;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;

/**
 * A running listener whose consumers can be moved to another offset in place (replay), without stopping them.
 */
public interface PartitionSeeker {

	/**
	 * Return the partitions this instance's consumers of the listener hold now.
	 * @return the partitions
	 */
	Set<TopicPartition> assignedPartitions();

	/**
	 * Move a partition's consumer to an offset. The seek happens on the consumer's thread before its next poll;
	 * records it already polled may still be processed first.
	 * @param partition the partition, assigned to this instance
	 * @param offset the offset to read from next
	 * @param timeout how long the listener may take to get ready (finish what is in flight)
	 * @throws IllegalStateException when the partition is not assigned here or the listener did not get ready in
	 * time
	 * @throws InterruptedException when interrupted while waiting
	 */
	void seek(TopicPartition partition, long offset, Duration timeout) throws InterruptedException;

}
