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

	/** Whether the current attempt failed before the record left the client (nothing can have been written). */
	boolean attemptUnsent;

	/**
	 * Whether an attempt failed after the record was handed to the broker (a delivery time-out, a broken
	 * connection): a copy may be on the topic, whatever the later attempts did.
	 */
	boolean maybeWritten;

	PendingSend(ProducerRecord<String, byte[]> record, String messageId) {
		this.record = record;
		this.messageId = messageId;
		this.future = new SendFuture(messageId);
	}

}
