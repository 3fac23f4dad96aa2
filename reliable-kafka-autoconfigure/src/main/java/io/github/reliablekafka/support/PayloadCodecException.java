package io.github.reliablekafka.support;

/**
 * A payload that cannot be encoded, or a record value that cannot be decoded into the requested type. Retrying
 * does not help: the consumer sends such records straight to the dead-letter topic.
 */
public class PayloadCodecException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception without a cause: for a value that cannot be read, the parser's exception quotes the input,
	 * which must not reach logs or dead-letter headers.
	 * @param message what could not be converted, and why, without the value's content
	 */
	public PayloadCodecException(String message) {
		super(message);
	}

	/**
	 * Create an exception.
	 * @param message what could not be converted, and why
	 * @param cause the codec's own exception
	 */
	public PayloadCodecException(String message, Throwable cause) {
		super(message, cause);
	}

}
