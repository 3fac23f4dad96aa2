package io.github.reliablekafka.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.springframework.util.Assert;

/**
 * An exponential back-off with a bounded number of attempts, as a function of the attempt number so that it can be
 * recomputed from a count stored anywhere (a database row, a header). Named as Spring Boot names back-off properties.
 *
 * @param maxAttempts total attempts including the first, at least 1
 * @param delay the wait after the first failed attempt
 * @param multiplier the factor applied to the wait after each further failed attempt, at least 1
 * @param maxDelay the longest wait
 * @param jitter each wait varies at random by up to this much either way, scaled by how many times {@code delay} the
 * wait is, and stays between {@code delay} and {@code maxDelay} (as Spring's {@code ExponentialBackOff} applies its
 * jitter); zero for none
 */
public record RetryBackoff(int maxAttempts, Duration delay, double multiplier, Duration maxDelay, Duration jitter) {

	public RetryBackoff {
		Assert.isTrue(maxAttempts >= 1, "maxAttempts must be at least 1");
		Assert.isTrue(!delay.isNegative(), "delay must not be negative");
		Assert.isTrue(multiplier >= 1.0, "multiplier must be at least 1.0");
		Assert.isTrue(maxDelay.compareTo(delay) >= 0, "maxDelay must not be shorter than delay");
		Assert.isTrue(!jitter.isNegative(), "jitter must not be negative");
	}

	/**
	 * Create a back-off without jitter.
	 * @param maxAttempts total attempts including the first, at least 1
	 * @param delay the wait after the first failed attempt
	 * @param multiplier the factor applied to the wait after each further failed attempt, at least 1
	 * @param maxDelay the longest wait
	 */
	public RetryBackoff(int maxAttempts, Duration delay, double multiplier, Duration maxDelay) {
		this(maxAttempts, delay, multiplier, maxDelay, Duration.ZERO);
	}

	/**
	 * Return how long to wait after a failed attempt, with the jitter applied.
	 * @param failedAttempts how many attempts have failed so far, at least 1
	 * @return the wait before the next attempt
	 */
	public Duration delayAfter(int failedAttempts) {
		long wait = baseDelayMillis(failedAttempts);
		long jitter = this.jitter.toMillis();
		if (jitter <= 0) {
			return Duration.ofMillis(wait);
		}
		long delay = this.delay.toMillis();
		long spread = jitter * ((delay > 0) ? Math.max(1, wait / delay) : 1);
		long lowest = Math.max(wait - spread, delay);
		long highest = Math.min(wait + spread, this.maxDelay.toMillis());
		return Duration.ofMillis((highest <= lowest) ? lowest : ThreadLocalRandom.current().nextLong(lowest, highest + 1));
	}

	/**
	 * Return the longest a wait after a failed attempt can be, jitter included.
	 * @param failedAttempts how many attempts have failed so far, at least 1
	 * @return the longest wait before the next attempt
	 */
	public Duration longestDelayAfter(int failedAttempts) {
		long wait = baseDelayMillis(failedAttempts);
		long delay = this.delay.toMillis();
		long spread = this.jitter.toMillis() * ((delay > 0) ? Math.max(1, wait / delay) : 1);
		return Duration.ofMillis(Math.min(wait + spread, this.maxDelay.toMillis()));
	}

	private long baseDelayMillis(int failedAttempts) {
		double millis = this.delay.toMillis() * Math.pow(this.multiplier, Math.max(0, failedAttempts - 1));
		return (millis >= this.maxDelay.toMillis()) ? this.maxDelay.toMillis() : (long) millis;
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
	 * Return the longest total wait between the first and the last attempt, jitter included.
	 * @return the sum of the longest waits after each failed attempt but the last
	 */
	public Duration totalDelay() {
		Duration total = Duration.ZERO;
		for (int attempt = 1; attempt < this.maxAttempts; attempt++) {
			total = total.plus(longestDelayAfter(attempt));
		}
		return total;
	}

}
