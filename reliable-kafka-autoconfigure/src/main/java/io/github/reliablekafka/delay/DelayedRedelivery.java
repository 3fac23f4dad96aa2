package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

import org.springframework.kafka.core.KafkaOperations;
import org.springframework.util.Assert;

/**
 * Sends a consumed record through the delay tiers back to its own topic, for {@link RetryLaterException}: same key,
 * value and headers (so the same {@code rk-id}), {@code rk-attempt} one higher.
 */
public final class DelayedRedelivery {

	private final DelayTopics topics;

	private final KafkaOperations<String, byte[]> kafka;

	private final int maxAttempts;

	private final Duration sendTimeout;

	/**
	 * Create the redelivery.
	 * @param topics the delay tiers' topics, created on the first redelivery
	 * @param kafka sends to the tier topics
	 * @param maxAttempts how many times one record may come back; after that it goes to the dead-letter topic
	 * @param sendTimeout how long to wait for Kafka to confirm the tier record
	 */
	DelayedRedelivery(DelayTopics topics, KafkaOperations<String, byte[]> kafka, int maxAttempts,
			Duration sendTimeout) {
		Assert.isTrue(maxAttempts >= 1, "reliable.kafka.delay.max-attempts must be at least 1");
		this.topics = topics;
		this.kafka = kafka;
		this.maxAttempts = maxAttempts;
		this.sendTimeout = sendTimeout;
	}

	/**
	 * Return how many times one record may come back later.
	 * @return the bound
	 */
	public int maxAttempts() {
		return this.maxAttempts;
	}

	/**
	 * Return how many times a record already came back later.
	 * @param record the record
	 * @return its {@code rk-attempt} header, 0 when absent, {@code -1} when it is not a count (negative, or not a
	 * number): a header anyone could have written, which must not give a record endless trips
	 */
	public static int attempts(ConsumerRecord<?, ?> record) {
		String value = RkHeaders.text(record.headers(), RkHeaders.ATTEMPT);
		if (value == null) {
			return 0;
		}
		try {
			int attempts = Integer.parseInt(value.trim());
			return (attempts >= 0) ? attempts : -1;
		}
		catch (NumberFormatException ex) {
			return -1;
		}
	}

	/**
	 * Send a record to the tiers and wait until Kafka confirmed it: then the original may be committed.
	 * @param record the record
	 * @param delay how long it waits
	 * @return the attempt number it carries now
	 * @throws IllegalStateException when the tier topics could not be created or Kafka did not confirm the tier record
	 * (the original must not be committed)
	 * @throws InterruptedException when interrupted while waiting
	 */
	public int redeliver(ConsumerRecord<String, byte[]> record, Duration delay) throws InterruptedException {
		int attempt = Math.max(attempts(record), 0) + 1;
		RecordHeaders headers = new RecordHeaders(record.headers().toArray());
		RkHeaders.set(headers, RkHeaders.ATTEMPT, Integer.toString(attempt));
		this.topics.ensureCreated();
		long now = System.currentTimeMillis();
		ProducerRecord<String, byte[]> hop = this.topics.tiers().hop(record.topic(), record.key(), record.value(), headers,
				now + delay.toMillis(), now);
		try {
			this.kafka.send(hop).get(this.sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
			return attempt;
		}
		catch (ExecutionException | TimeoutException ex) {
			Throwable cause = (ex instanceof ExecutionException) ? ex.getCause() : ex;
			throw new IllegalStateException("Could not send record " + record.topic() + "-" + record.partition() + "@"
					+ record.offset() + " to delay topic " + hop.topic() + ": " + cause, cause);
		}
	}

}
