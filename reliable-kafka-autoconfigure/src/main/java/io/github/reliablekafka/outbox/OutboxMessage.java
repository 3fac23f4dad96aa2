package io.github.reliablekafka.outbox;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * An outbox row as an operator sees it.
 *
 * @param id the row id
 * @param messageId the {@code rk-id}
 * @param topic the topic
 * @param key the key, {@code null} when it has none
 * @param status the state
 * @param attempts the publish attempts made
 * @param lastError the last error, {@code null} when there was none
 * @param createdAt when the row was written
 * @param notBefore the earliest delivery time
 * @param sentAt when Kafka confirmed it ({@code SENT}), {@code null} before
 * @param sentPartition the partition Kafka wrote it to, {@code null} before it was {@code SENT} (or when the table
 * has no {@code sent_partition} column)
 * @param sentOffset its offset there, {@code null} likewise
 */
public record OutboxMessage(long id, String messageId, String topic, @Nullable String key, OutboxStatus status,
		int attempts, @Nullable String lastError, Instant createdAt, Instant notBefore, @Nullable Instant sentAt,
		@Nullable Integer sentPartition, @Nullable Long sentOffset) {
}
