package io.github.reliablekafka.idempotency;

/**
 * A record was claimed more than {@code reliable.kafka.consumer.idempotency.max-claims} times without finishing:
 * it kills (or stalls) its consumer each time it runs. It goes to the dead-letter topic so that its partition moves
 * on.
 */
public class CrashLoopException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception.
	 * @param message which record, and how many claims
	 */
	public CrashLoopException(String message) {
		super(message);
	}

}
