package io.github.reliablekafka.idempotency;

import org.jspecify.annotations.Nullable;

/**
 * The guard cannot decide whether a record is new now: its store is unreachable, or another consumer holds the
 * key's claim. The record is retried (its offset is not committed) until the guard can decide.
 */
public class GuardUnavailableException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception.
	 * @param message why the guard cannot decide
	 * @param cause the store's error, if any
	 */
	public GuardUnavailableException(String message, @Nullable Throwable cause) {
		super(message, cause);
	}

	/**
	 * Create an exception.
	 * @param message why the guard cannot decide
	 */
	public GuardUnavailableException(String message) {
		super(message);
	}

}
