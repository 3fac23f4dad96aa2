package io.github.reliablekafka.autoconfigure.producer;

import java.time.Duration;

import io.github.reliablekafka.support.RetryBackoff;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the reliable producer. The Kafka client itself is configured under
 * {@code spring.kafka.producer.*}; settings made there win over the library's safe defaults.
 */
@ConfigurationProperties("reliable.kafka.producer")
public class ReliableKafkaProducerProperties {

	/**
	 * How long sendAndWait waits for Kafka's acknowledgement before it throws. Closing the application waits as
	 * long for the outcomes of sends still in flight. With the outbox, how long a send's future waits for Kafka's
	 * confirmation (the message itself stays committed and is still published).
	 */
	private Duration sendTimeout = Duration.ofSeconds(30);

	/**
	 * Maximum number of sends awaiting an outcome at once. Beyond it, send blocks.
	 */
	private int maxInFlight = 10_000;

	/**
	 * How long send blocks while max-in-flight sends await an outcome, before its future fails.
	 */
	private Duration maxBlock = Duration.ofSeconds(60);

	private final Retry retry = new Retry();

	public Duration getSendTimeout() {
		return this.sendTimeout;
	}

	public void setSendTimeout(Duration sendTimeout) {
		this.sendTimeout = sendTimeout;
	}

	public int getMaxInFlight() {
		return this.maxInFlight;
	}

	public void setMaxInFlight(int maxInFlight) {
		this.maxInFlight = maxInFlight;
	}

	public Duration getMaxBlock() {
		return this.maxBlock;
	}

	public void setMaxBlock(Duration maxBlock) {
		this.maxBlock = maxBlock;
	}

	public Retry getRetry() {
		return this.retry;
	}

	/**
	 * Retries after the Kafka client gave up on a record (its delivery.timeout.ms passed).
	 */
	public static class Retry {

		/**
		 * Maximum number of attempts per record, counting the first.
		 */
		private int maxAttempts = 5;

		/**
		 * Wait after the first failed attempt.
		 */
		private Duration initialInterval = Duration.ofMillis(500);

		/**
		 * Factor applied to the wait after each further failed attempt.
		 */
		private double multiplier = 2.0;

		/**
		 * Longest wait between two attempts.
		 */
		private Duration maxInterval = Duration.ofSeconds(30);

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

		RetryBackoff toBackoff() {
			return new RetryBackoff(this.maxAttempts, this.initialInterval, this.multiplier, this.maxInterval);
		}

	}

}
