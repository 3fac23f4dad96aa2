package io.github.reliablekafka.producer;

import org.jspecify.annotations.Nullable;

/**
 * A send whose outcome is not known: every attempt failed, but at least one failed after the record had been handed
 * to the broker (its delivery time-out expired, its connection broke), so the record may be on the topic. Sending it
 * again under a new {@code rk-id} could write a copy that no idempotency guard keyed by message id recognises: look
 * for the message's {@code rk-id} on the topic first, or send it again only where the consumers key their guard by
 * a business key ({@code @ReliableListener(idempotencyKey = ...)}), which the copy shares.
 * A plain {@link ReliableSendException} means no copy can exist.
 */
public class ReliableSendInDoubtException extends ReliableSendException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception.
	 * @param message what happened and what to do about it
	 * @param messageId the {@code rk-id} of the message
	 * @param topic the topic
	 * @param key the key
	 * @param attempts the attempts made
	 * @param cause the last failure, if any
	 */
	public ReliableSendInDoubtException(String message, String messageId, String topic, @Nullable String key,
			int attempts, @Nullable Throwable cause) {
		super(message, messageId, topic, key, attempts, cause);
	}

}
