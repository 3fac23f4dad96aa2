package io.github.reliablekafka.internal;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import io.github.reliablekafka.support.PayloadCodecException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

import org.springframework.kafka.KafkaException;
import org.springframework.kafka.core.KafkaProducerException;

/**
 * Tells a failure that no retry can fix from one that a later attempt may get past.
 */
public final class KafkaErrors {

	private KafkaErrors() {
	}

	/**
	 * Return whether a send failure is permanent: the record is too large, the client is not authorised or not
	 * authenticated, the topic name is invalid, the record or its serialization is invalid, a broker policy refused
	 * it, or the broker does not support what was asked. Everything else (time-outs, leader changes, not enough
	 * in-sync replicas, a broker that is down) is worth another attempt.
	 * @param failure the failure, possibly wrapped
	 * @return {@code true} when retrying cannot succeed
	 */
	public static boolean isPermanent(Throwable failure) {
		Throwable cause = unwrap(failure);
		return cause instanceof RecordTooLargeException || cause instanceof RecordBatchTooLargeException
				|| cause instanceof AuthorizationException || cause instanceof AuthenticationException
				|| cause instanceof InvalidTopicException || cause instanceof SerializationException
				|| cause instanceof InvalidRecordException || cause instanceof PolicyViolationException
				|| cause instanceof UnsupportedVersionException || cause instanceof PayloadCodecException;
	}

	/**
	 * Strip the wrappers futures and spring-kafka put around a Kafka client failure.
	 * @param failure the failure
	 * @return the innermost meaningful cause
	 */
	public static Throwable unwrap(Throwable failure) {
		Throwable current = failure;
		while ((current instanceof CompletionException || current instanceof ExecutionException
				|| (current instanceof KafkaException && current.getClass() == KafkaException.class)
				|| current instanceof KafkaProducerException)
				&& current.getCause() != null && current.getCause() != current) {
			current = current.getCause();
		}
		return current;
	}

	/**
	 * Describe a failure in one line: the class name of the innermost cause and its message.
	 * @param failure the failure
	 * @return the description
	 */
	public static String describe(Throwable failure) {
		Throwable cause = unwrap(failure);
		return cause.getClass().getSimpleName() + ": " + cause.getMessage();
	}

}
