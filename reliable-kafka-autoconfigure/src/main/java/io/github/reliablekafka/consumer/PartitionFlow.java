package io.github.reliablekafka.consumer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Tells, for a listener on the consumer thread, which records no consumer can have died on, so that the idempotency
 * guard need not count their claims (see {@code IdempotencyGuard#executeInFlow}). A partition's records run one
 * after the other; a record is <em>in flow</em> when it is the next offset after a record that the guard, on this
 * consumer, found new and ran. Everything else is checked and claimed as usual: the first records after the
 * partition was assigned or the application started, until one is new; a record after a gap in the offsets (a seek:
 * a retry after a failure, a replay, another consumer's progress while the partition was away); a record after one
 * that failed; a record after a duplicate, so that a stream with many duplicates keeps the two-tier guard's Redis
 * check for most of them.
 * <p>
 * A record that kills its consumer while in flow was not counted; it is counted from its first replay, when it is
 * the first new record of the partition. So the ledger stores dead-letter such a record after {@code max-claims + 1}
 * kills, not {@code max-claims}.
 * <p>
 * One instance serves every consumer thread of a listener; a partition is read by one thread at a time, and moves
 * between threads only at a rebalance, between polls.
 */
final class PartitionFlow {

	private final Map<TopicPartition, Position> positions = new ConcurrentHashMap<>();

	/**
	 * Whether the record directly follows one the guard found new on this consumer.
	 * @param record the record about to run
	 * @return {@code true} when no claim need be counted
	 */
	boolean inFlow(ConsumerRecord<?, ?> record) {
		Position position = this.positions.get(new TopicPartition(record.topic(), record.partition()));
		return position != null && position.flowing && position.next == record.offset();
	}

	/**
	 * The record is finished with: decided by the guard, failed, or run without the guard.
	 * @param record the record
	 * @param ranNew whether the guard found it new and ran it (and its work committed); {@code false} when it failed
	 * or ran without the guard, and what comes next is checked and claimed again
	 */
	void decided(ConsumerRecord<?, ?> record, boolean ranNew) {
		Position position = this.positions.computeIfAbsent(new TopicPartition(record.topic(), record.partition()),
				(partition) -> new Position());
		position.flowing = ranNew;
		position.next = record.offset() + 1;
	}

	/** Where a partition is; written and read by the one thread that reads the partition at a time. */
	private static final class Position {

		volatile long next = -1;

		volatile boolean flowing;

	}

}
