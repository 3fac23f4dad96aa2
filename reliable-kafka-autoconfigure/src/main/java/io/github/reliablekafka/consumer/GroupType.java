package io.github.reliablekafka.consumer;

/**
 * The kind of Kafka group a {@link ReliableListener} reads in.
 */
public enum GroupType {

	/**
	 * A consumer group: each partition is read by one consumer of the group, in order, and the group commits offsets.
	 * Retries wait in place, so a failing record holds back the records after it in its partition (or, with
	 * {@code ordering = KEY}, its key).
	 */
	CLASSIC,

	/**
	 * A share group (Kafka 4.2 queues, KIP-932): the consumers of the group read the same partitions together, each
	 * record is acquired by one of them under a time-limited lock and acknowledged on its own, and the broker counts
	 * its deliveries. No order; a failing record is released and comes back after its back-off without holding back
	 * others. The broker must have share groups enabled.
	 */
	SHARE

}
