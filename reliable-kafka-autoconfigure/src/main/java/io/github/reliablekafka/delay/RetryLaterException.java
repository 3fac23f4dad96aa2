package io.github.reliablekafka.delay;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Thrown by a reliable listener to have its record delivered again later, through the delay tiers, back to the
 * record's own topic; the record is committed at once, so the partition keeps flowing. Each time adds one to the
 * record's {@code rk-attempt} header; after {@code reliable.kafka.delay.max-attempts} the record goes to the
 * dead-letter topic instead.
 *
 * <p>
 * This trades the key's order for not blocking the partition: records of the same key that arrive meanwhile are
 * processed before the one that comes back. To keep the order, throw any other exception and let the in-place
 * retries (with back-off, on the record's lane) run instead.
 */
public class RetryLaterException extends RuntimeException {

	private final Duration delay;

	/**
	 * Ask for the record to come back after a delay.
	 * @param delay how long to wait, positive
	 */
	public RetryLaterException(Duration delay) {
		this(delay, "retry later, in " + delay, null);
	}

	/**
	 * Ask for the record to come back after a delay.
	 * @param delay how long to wait, positive
	 * @param message why
	 */
	public RetryLaterException(Duration delay, String message) {
		this(delay, message, null);
	}

	/**
	 * Ask for the record to come back after a delay.
	 * @param delay how long to wait, positive
	 * @param message why
	 * @param cause what went wrong, or {@code null}
	 */
	public RetryLaterException(Duration delay, String message, @Nullable Throwable cause) {
		super(message, cause);
		Assert.isTrue(delay != null && !delay.isNegative() && !delay.isZero(), "delay must be positive");
		this.delay = delay;
	}

	/**
	 * Return how long the record waits before it comes back.
	 * @return the delay
	 */
	public Duration getDelay() {
		return this.delay;
	}

}
