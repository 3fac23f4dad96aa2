package io.github.reliablekafka.producer;

import java.time.Duration;
import java.util.List;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Hears the outcome of every send. Declare beans of this type to add your own handling (an alert, an audit
 * table); the library's own logging and metrics are listeners too. Read the message id with
 * {@link io.github.reliablekafka.support.RkHeaders#id(org.apache.kafka.common.header.Headers)}.
 *
 * <p>
 * Methods run on the template's outcome thread: keep them short and non-blocking.
 * <b>Exception safety:</b> an exception thrown by a listener is logged and never changes the outcome of a send.
 */
public interface SendOutcomeListener {

	/**
	 * A record was acknowledged by Kafka.
	 * @param record the record as sent
	 * @param metadata where it was written
	 * @param attempt which attempt succeeded, from 1
	 */
	default void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
	}

	/**
	 * An attempt failed and the record will be sent again.
	 * @param record the record
	 * @param attempt the failed attempt, from 1
	 * @param cause why it failed
	 * @param retryIn the earliest time until the next attempt
	 */
	default void onAttemptFailure(ProducerRecord<String, byte[]> record, int attempt, Throwable cause,
			Duration retryIn) {
	}

	/**
	 * The send failed for good: the future completes exceptionally and the record is not sent again.
	 * @param record the record
	 * @param attempts how many attempts were made, 0 when none could start
	 * @param cause the last failure
	 */
	default void onFailure(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
	}

	/**
	 * A record's final outcome is not known: every attempt failed, but one failed after the record had reached the
	 * broker, so it may be on the topic. Its future fails with {@link ReliableSendInDoubtException}.
	 * @param record the record
	 * @param attempts how many attempts were made
	 * @param cause the last failure
	 */
	default void onInDoubt(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
	}

	/**
	 * A record was acknowledged while an earlier record with the same key was still waiting for a retry: the key's
	 * order is broken at this record.
	 * @param record the record acknowledged ahead of an earlier one
	 * @param metadata where it was written
	 */
	default void onOrderBreak(ProducerRecord<String, byte[]> record, RecordMetadata metadata) {
	}

	/**
	 * Return the library's own listener, which every template it builds has: a success at DEBUG, a failed attempt at
	 * WARN, a final failure, an in-doubt outcome and an order break at ERROR, each with the record's rk-id, key and
	 * topic.
	 * @return the logging listener
	 */
	static SendOutcomeListener logging() {
		return new LoggingSendOutcomeListener();
	}

	/**
	 * Return a listener that calls each of the given ones in turn; one that throws is logged and skipped.
	 * @param listeners the listeners
	 * @return the composite
	 */
	static SendOutcomeListener composite(List<SendOutcomeListener> listeners) {
		return new CompositeSendOutcomeListener(listeners);
	}

}
