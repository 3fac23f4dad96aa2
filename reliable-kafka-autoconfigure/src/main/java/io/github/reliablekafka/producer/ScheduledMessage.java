package io.github.reliablekafka.producer;

import java.time.Instant;

/**
 * A message durably scheduled for later delivery by {@link ReliableKafkaTemplate#sendDelayed}.
 *
 * @param messageId the {@code rk-id} the message will carry
 * @param dueAt the earliest time it is delivered
 */
public record ScheduledMessage(String messageId, Instant dueAt) {
}
