package io.github.reliablekafka.outbox;

/**
 * A send's future gave up waiting for Kafka's confirmation. The message is <b>not lost</b>: it is committed in the
 * outbox and the relay keeps publishing it; {@link OutboxOperations#find(String)} tells where it stands.
 */
public class OutboxPendingException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final String messageId;

	/**
	 * Create an exception.
	 * @param message what happened
	 * @param messageId the {@code rk-id} of the pending message
	 */
	public OutboxPendingException(String message, String messageId) {
		super(message);
		this.messageId = messageId;
	}

	/**
	 * Return the message id.
	 * @return the {@code rk-id} of the pending message
	 */
	public String getMessageId() {
		return this.messageId;
	}

}
