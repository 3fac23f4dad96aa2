package io.github.reliablekafka.producer;

import java.util.concurrent.CompletableFuture;

import org.springframework.kafka.support.SendResult;

/**
 * The future of a send, which knows its message's id from the start: store it with your own data (it is the
 * {@code rk-id} header every later stage keys on) before Kafka has confirmed anything.
 */
public final class SendFuture extends CompletableFuture<SendResult<String, byte[]>> {

	private final String messageId;

	/**
	 * Create a future.
	 * @param messageId the {@code rk-id} of the message
	 */
	public SendFuture(String messageId) {
		this.messageId = messageId;
	}

	/**
	 * Return the message id.
	 * @return the {@code rk-id} of the message
	 */
	public String messageId() {
		return this.messageId;
	}

	@Override
	public String toString() {
		return "SendFuture[rk-id=" + this.messageId + ", " + super.toString() + "]";
	}

}
