package io.github.reliablekafka.idempotency;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * That a consumer group sent a message to its dead-letter topic, as the group's idempotency store keeps it for "where
 * is message X?".
 *
 * @param messageId the message's {@code rk-id}
 * @param group the consumer group whose listener gave up on it
 * @param source the record given up on, {@code topic-partition@offset}
 * @param deadLetter the dead letter published, {@code topic-partition@offset}
 * @param reason the exception's class and message, cut to {@value #MAX_REASON} characters; {@code null} when unknown
 * @param at when the dead letter was published
 */
public record DeadLetterRecord(String messageId, String group, String source, String deadLetter,
		@Nullable String reason, Instant at) {

	/** The longest reason kept. */
	public static final int MAX_REASON = 500;

	/**
	 * Create a record, cutting the reason to {@value #MAX_REASON} characters.
	 * @param messageId the message's {@code rk-id}
	 * @param group the consumer group
	 * @param source the record given up on, {@code topic-partition@offset}
	 * @param deadLetter the dead letter published, {@code topic-partition@offset}
	 * @param reason the reason, cut here
	 * @param at when
	 */
	public DeadLetterRecord {
		if (reason != null && reason.length() > MAX_REASON) {
			reason = reason.substring(0, MAX_REASON - 3) + "...";
		}
	}

	/**
	 * Write a record's position as this record keeps it.
	 * @param topic the topic
	 * @param partition the partition
	 * @param offset the offset
	 * @return {@code topic-partition@offset}
	 */
	public static String position(String topic, int partition, long offset) {
		return topic + "-" + partition + "@" + offset;
	}

}
