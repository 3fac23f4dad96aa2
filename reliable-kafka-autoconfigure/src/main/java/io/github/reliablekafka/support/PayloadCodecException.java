package io.github.reliablekafka.support;

/**
 * A payload that cannot be encoded, or a record value that cannot be decoded into the requested type. Retrying
 * does not help: the consumer sends such records straight to the dead-letter topic.
 */
public class PayloadCodecException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * Create an exception.
	 * @param message what could not be converted, and why
	 * @param cause the codec's own exception
	 */
	public PayloadCodecException(String message, Throwable cause) {
		super(message, cause);
	}

}
