package io.github.reliablekafka.producer;

import java.util.concurrent.CompletableFuture;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.SendResult;

/**
 * One message on its way: the record, its future, and where it stands in its key's order.
 */
final class PendingSend {

	final ProducerRecord<String, byte[]> record;

	final String messageId;

	final CompletableFuture<SendResult<String, byte[]>> future = new CompletableFuture<>();

	/** Position in its key's order; assigned under the lane's lock. */
	long sequence;

	/** Attempts started so far. */
	int attempts;

	/** Whether the current attempt belongs to a retry round (rather than the first, flowing dispatch). */
	boolean inRetryRound;

	@Nullable Throwable lastFailure;

	PendingSend(ProducerRecord<String, byte[]> record, String messageId) {
		this.record = record;
		this.messageId = messageId;
	}

}
