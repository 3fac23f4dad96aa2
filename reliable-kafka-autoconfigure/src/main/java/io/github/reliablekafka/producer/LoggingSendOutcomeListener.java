package io.github.reliablekafka.producer;

import java.time.Duration;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every outcome: success at DEBUG, a failed attempt at WARN, a final failure and an order break at ERROR. The
 * stack trace of a final failure is logged at DEBUG; the ERROR line names the message, its key, topic, attempts
 * and cause.
 */
final class LoggingSendOutcomeListener implements SendOutcomeListener {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaTemplate.class);

	@Override
	public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
		if (logger.isDebugEnabled()) {
			logger.debug("Sent rk-id={} key={} to {}-{}@{} (attempt {})", LogText.of(RkHeaders.id(record.headers())),
					LogText.of(record.key()), metadata.topic(), metadata.partition(), metadata.offset(), attempt);
		}
	}

	@Override
	public void onAttemptFailure(ProducerRecord<String, byte[]> record, int attempt, Throwable cause,
			Duration retryIn) {
		logger.warn("Send of rk-id={} key={} to topic {} failed on attempt {}; retrying in {} ms: {}",
				LogText.of(RkHeaders.id(record.headers())), LogText.of(record.key()), record.topic(), attempt, retryIn.toMillis(),
				KafkaErrors.describe(cause));
	}

	@Override
	public void onFailure(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
		logger.error("Send of rk-id={} key={} to topic {} FAILED after {} attempt(s); the message was not delivered: {}",
				LogText.of(RkHeaders.id(record.headers())), LogText.of(record.key()), record.topic(), attempts, KafkaErrors.describe(cause));
		logger.debug("Cause of the failed send of rk-id={}", LogText.of(RkHeaders.id(record.headers())), cause);
	}

	@Override
	public void onInDoubt(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
		logger.error("Send of rk-id={} key={} to topic {} is IN DOUBT after {} attempt(s): an attempt failed after the "
				+ "record reached the broker, so it may be on the topic; do not send it again under a new rk-id: {}",
				LogText.of(RkHeaders.id(record.headers())), LogText.of(record.key()), record.topic(), attempts,
				KafkaErrors.describe(cause));
		logger.debug("Cause of the send in doubt of rk-id={}", LogText.of(RkHeaders.id(record.headers())), cause);
	}

	@Override
	public void onOrderBreak(ProducerRecord<String, byte[]> record, RecordMetadata metadata) {
		logger.error("Order of key {} on topic {} broken: rk-id={} was acknowledged at {}-{}@{} while an earlier record "
				+ "of the key awaits a retry", LogText.of(record.key()), record.topic(), LogText.of(RkHeaders.id(record.headers())),
				metadata.topic(), metadata.partition(), metadata.offset());
	}

}
