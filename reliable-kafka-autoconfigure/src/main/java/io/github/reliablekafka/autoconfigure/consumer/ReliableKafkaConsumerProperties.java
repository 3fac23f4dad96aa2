package io.github.reliablekafka.autoconfigure.consumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.consumer.NullPayload;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of reliable listeners ({@code @ReliableListener}). The Kafka consumer itself is configured under
 * {@code spring.kafka.consumer.*} and {@code spring.kafka.listener.*}.
 */
@ConfigurationProperties("reliable.kafka.consumer")
public class ReliableKafkaConsumerProperties {

	/**
	 * What to do with a record whose value is null (a tombstone) or empty: skip (logged with its topic, partition
	 * and offset), dead-letter, or deliver.
	 */
	private NullPayload nullPayload = NullPayload.SKIP;

	private final Retry retry = new Retry();

	private final DeadLetter deadLetter = new DeadLetter();

	public NullPayload getNullPayload() {
		return this.nullPayload;
	}

	public void setNullPayload(NullPayload nullPayload) {
		this.nullPayload = nullPayload;
	}

	public Retry getRetry() {
		return this.retry;
	}

	public DeadLetter getDeadLetter() {
		return this.deadLetter;
	}

	/**
	 * Retries of a record whose listener failed.
	 */
	public static class Retry {

		/**
		 * Maximum number of attempts per record, counting the first, before it goes to the dead-letter topic.
		 */
		private int maxAttempts = 3;

		/**
		 * Wait after the first failed attempt.
		 */
		private Duration initialInterval = Duration.ofSeconds(1);

		/**
		 * Factor applied to the wait after each further failed attempt.
		 */
		private double multiplier = 2.0;

		/**
		 * Longest wait between two attempts.
		 */
		private Duration maxInterval = Duration.ofSeconds(30);

		/**
		 * Exception types that send a record to the dead-letter topic at once, without retries, in addition to
		 * NonRetryableException and payloads that cannot be read.
		 */
		private List<Class<? extends Throwable>> nonRetryable = new ArrayList<>();

		public int getMaxAttempts() {
			return this.maxAttempts;
		}

		public void setMaxAttempts(int maxAttempts) {
			this.maxAttempts = maxAttempts;
		}

		public Duration getInitialInterval() {
			return this.initialInterval;
		}

		public void setInitialInterval(Duration initialInterval) {
			this.initialInterval = initialInterval;
		}

		public double getMultiplier() {
			return this.multiplier;
		}

		public void setMultiplier(double multiplier) {
			this.multiplier = multiplier;
		}

		public Duration getMaxInterval() {
			return this.maxInterval;
		}

		public void setMaxInterval(Duration maxInterval) {
			this.maxInterval = maxInterval;
		}

		public List<Class<? extends Throwable>> getNonRetryable() {
			return this.nonRetryable;
		}

		public void setNonRetryable(List<Class<? extends Throwable>> nonRetryable) {
			this.nonRetryable = nonRetryable;
		}

	}

	/**
	 * The dead-letter topic of a record that could not be processed.
	 */
	public static class DeadLetter {

		/**
		 * Suffix appended to a record's topic to name its dead-letter topic.
		 */
		private String suffix = ".DLT";

		public String getSuffix() {
			return this.suffix;
		}

		public void setSuffix(String suffix) {
			this.suffix = suffix;
		}

	}

}
