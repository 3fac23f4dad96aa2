package io.github.reliablekafka.consumer;

/**
 * Thrown by a {@link ReliableListener} when a record can never be processed (it fails validation, it refers to
 * something that does not exist): the record goes to the dead-letter topic at once, without retries.
 */
public class NonRetryableException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception.
	 * @param message why the record can never be processed
	 */
	public NonRetryableException(String message) {
		super(message);
	}

	/**
	 * Create an exception.
	 * @param message why the record can never be processed
	 * @param cause the underlying failure
	 */
	public NonRetryableException(String message, Throwable cause) {
		super(message, cause);
	}

}
