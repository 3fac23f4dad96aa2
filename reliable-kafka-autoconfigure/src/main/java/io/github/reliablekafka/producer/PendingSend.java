package io.github.reliablekafka.producer;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;

/**
 * One message on its way: the record, its future, and where it stands in its key's order.
 */
final class PendingSend {

	final ProducerRecord<String, byte[]> record;

	final String messageId;

	final SendFuture future;

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
		this.future = new SendFuture(messageId);
	}

}
