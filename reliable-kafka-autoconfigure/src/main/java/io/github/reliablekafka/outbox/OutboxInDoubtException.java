package io.github.reliablekafka.outbox;

import io.github.reliablekafka.producer.ReliableSendException;
import org.jspecify.annotations.Nullable;

/**
 * Whether a message was committed to the outbox is not known. Either the commit of the transaction that sent it
 * failed, and the transaction manager cannot tell whether the database committed it (Spring's
 * {@code STATUS_UNKNOWN}: a constraint checked at the commit or a serialization failure rolled it back, a connection
 * lost during the commit may have left it committed); or, outside a transaction, the connection failed while its row
 * was written (then {@code send} throws this). Either way nothing is lost or sent twice: if the row was committed,
 * the relay publishes it (in {@code immediate} mode once its writer lease has run out); if not, nothing is
 * published. {@link OutboxOperations#find(String)} with {@link #getMessageId()} tells which. Sending the message
 * again would give it a new {@code rk-id}: find out first.
 */
public class OutboxInDoubtException extends ReliableSendException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception.
	 * @param message what happened
	 * @param messageId the {@code rk-id} of the message
	 * @param topic the topic
	 * @param key the key
	 */
	public OutboxInDoubtException(String message, String messageId, String topic, @Nullable String key) {
		super(message, messageId, topic, key, 0, null);
	}

}
