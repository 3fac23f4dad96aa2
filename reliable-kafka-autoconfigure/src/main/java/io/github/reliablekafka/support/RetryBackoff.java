package io.github.reliablekafka.support;

import java.time.Duration;

import org.springframework.util.Assert;

/**
 * An exponential back-off with a bounded number of attempts, as a pure function of the attempt number so that it
 * can be recomputed from a count stored anywhere (a database row, a header).
 *
 * @param maxAttempts total attempts including the first, at least 1
 * @param initialInterval the wait after the first failed attempt
 * @param multiplier the factor applied to the wait after each further failed attempt, at least 1
 * @param maxInterval the longest wait
 */
public record RetryBackoff(int maxAttempts, Duration initialInterval, double multiplier, Duration maxInterval) {

	public RetryBackoff {
		Assert.isTrue(maxAttempts >= 1, "maxAttempts must be at least 1");
		Assert.isTrue(!initialInterval.isNegative(), "initialInterval must not be negative");
		Assert.isTrue(multiplier >= 1.0, "multiplier must be at least 1.0");
		Assert.isTrue(maxInterval.compareTo(initialInterval) >= 0, "maxInterval must not be shorter than initialInterval");
	}

	/**
	 * Return how long to wait after a failed attempt.
	 * @param failedAttempts how many attempts have failed so far, at least 1
	 * @return the wait before the next attempt
	 */
	public Duration delayAfter(int failedAttempts) {
		double millis = this.initialInterval.toMillis() * Math.pow(this.multiplier, Math.max(0, failedAttempts - 1));
		return (millis >= this.maxInterval.toMillis()) ? this.maxInterval : Duration.ofMillis((long) millis);
	}

	/**
	 * Return whether another attempt is allowed.
	 * @param failedAttempts how many attempts have failed so far
	 * @return {@code true} while fewer than {@link #maxAttempts()} attempts were made
	 */
	public boolean canRetry(int failedAttempts) {
		return failedAttempts < this.maxAttempts;
	}

	/**
	 * Return the longest total wait between the first and the last attempt.
	 * @return the sum of the waits after each failed attempt but the last
	 */
	public Duration totalDelay() {
		Duration total = Duration.ZERO;
		for (int attempt = 1; attempt < this.maxAttempts; attempt++) {
			total = total.plus(delayAfter(attempt));
		}
		return total;
	}

}
