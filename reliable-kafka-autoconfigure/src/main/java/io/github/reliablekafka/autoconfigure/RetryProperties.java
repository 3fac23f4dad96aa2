package io.github.reliablekafka.autoconfigure;

import java.time.Duration;

import io.github.reliablekafka.internal.RetryBackoff;

/**
 * The retry properties of the producer ({@code reliable.kafka.producer.retry}), the listeners
 * ({@code reliable.kafka.consumer.retry}) and the outbox relay ({@code reliable.kafka.outbox.retry}): attempts and an
 * exponential back-off with Spring Boot's names ({@code delay}, {@code max-delay}, {@code multiplier},
 * {@code jitter}, as in {@code spring.kafka.retry.topic.backoff}). Each group has its own defaults.
 */
public class RetryProperties {

	/**
	 * Maximum number of attempts, counting the first.
	 */
	private int maxAttempts;

	/**
	 * Wait after the first failed attempt.
	 */
	private Duration delay;

	/**
	 * Factor applied to the wait after each further failed attempt.
	 */
	private double multiplier;

	/**
	 * Longest wait between two attempts.
	 */
	private Duration maxDelay;

	/**
	 * Randomizes each wait by up to this much either way, scaled by how many times the delay the wait is, and kept
	 * between delay and max-delay (as Spring's ExponentialBackOff does). Zero for none.
	 */
	private Duration jitter = Duration.ZERO;

	/**
	 * Create the properties with a group's defaults.
	 * @param maxAttempts attempts, counting the first
	 * @param delay the wait after the first failed attempt
	 * @param multiplier the factor applied after each further failed attempt
	 * @param maxDelay the longest wait
	 */
	public RetryProperties(int maxAttempts, Duration delay, double multiplier, Duration maxDelay) {
		this.maxAttempts = maxAttempts;
		this.delay = delay;
		this.multiplier = multiplier;
		this.maxDelay = maxDelay;
	}

	public int getMaxAttempts() {
		return this.maxAttempts;
	}

	public void setMaxAttempts(int maxAttempts) {
		this.maxAttempts = maxAttempts;
	}

	public Duration getDelay() {
		return this.delay;
	}

	public void setDelay(Duration delay) {
		this.delay = delay;
	}

	public double getMultiplier() {
		return this.multiplier;
	}

	public void setMultiplier(double multiplier) {
		this.multiplier = multiplier;
	}

	public Duration getMaxDelay() {
		return this.maxDelay;
	}

	public void setMaxDelay(Duration maxDelay) {
		this.maxDelay = maxDelay;
	}

	public Duration getJitter() {
		return this.jitter;
	}

	public void setJitter(Duration jitter) {
		this.jitter = jitter;
	}

	/**
	 * Return the back-off these properties describe.
	 * @return the back-off
	 */
	public RetryBackoff toBackoff() {
		return new RetryBackoff(this.maxAttempts, this.delay, this.multiplier, this.maxDelay, this.jitter);
	}

}
