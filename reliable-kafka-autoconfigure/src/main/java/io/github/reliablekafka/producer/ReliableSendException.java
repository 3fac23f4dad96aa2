package io.github.reliablekafka.producer;

import org.jspecify.annotations.Nullable;

/**
 * A send that ended without Kafka's acknowledgement: every attempt failed, a failure no retry can fix occurred,
 * back-pressure refused it, or no outcome came in time.
 */
public class ReliableSendException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final String messageId;

	private final String topic;

	private final @Nullable String key;

	private final int attempts;

	/**
	 * Create an exception.
	 * @param message what happened and what to do about it
	 * @param messageId the {@code rk-id} of the message
	 * @param topic the topic
	 * @param key the key
	 * @param attempts the attempts made
	 * @param cause the last failure, if any
	 */
	public ReliableSendException(String message, String messageId, String topic, @Nullable String key, int attempts,
			@Nullable Throwable cause) {
		super(message, cause);
		this.messageId = messageId;
		this.topic = topic;
		this.key = key;
		this.attempts = attempts;
	}

	/**
	 * Return the message id.
	 * @return the {@code rk-id} of the failed message
	 */
	public String getMessageId() {
		return this.messageId;
	}

	/**
	 * Return the topic.
	 * @return the topic of the failed message
	 */
	public String getTopic() {
		return this.topic;
	}

	/**
	 * Return the key.
	 * @return the key of the failed message, {@code null} when it had none
	 */
	public @Nullable String getKey() {
		return this.key;
	}

	/**
	 * Return the number of attempts.
	 * @return how many attempts were made
	 */
	public int getAttempts() {
		return this.attempts;
	}

}
