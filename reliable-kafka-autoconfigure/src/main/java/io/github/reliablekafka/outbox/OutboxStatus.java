package io.github.reliablekafka.outbox;

/**
 * The state of an outbox row. A row only moves forward: {@code NEW} to {@code SENT}, or {@code NEW} to
 * {@code FAILED} (and back to {@code NEW} only when an operator re-queues it).
 */
public enum OutboxStatus {

	/** Committed, not yet confirmed by Kafka. */
	NEW,

	/** Confirmed by Kafka; deleted after the retention period. */
	SENT,

	/** Given up after its attempts, or at once for an error no retry can fix. */
	FAILED

}
