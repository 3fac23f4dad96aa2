package io.github.reliablekafka.outbox;

/**
 * A message could not be written to the outbox table. Thrown from {@code send} inside the caller's transaction,
 * which must then roll back: nothing was recorded and nothing will be sent.
 */
public class OutboxWriteException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception.
	 * @param message what could not be written, and what it means for the transaction
	 * @param cause the database error
	 */
	public OutboxWriteException(String message, Throwable cause) {
		super(message, cause);
	}

}
