package io.github.reliablekafka.support;

/**
 * The library refuses to start: a setting, a class path, a database or a listener method would break one of its
 * guarantees, or cannot work at all. It says what is wrong and what to do about it; Spring Boot prints the two as the
 * failure report's Description and Action.
 */
public class ReliableKafkaConfigurationException extends IllegalStateException {

	private final String description;

	private final String action;

	/**
	 * Create the exception.
	 * @param description what is wrong, naming the setting, table or method
	 * @param action what to change
	 */
	public ReliableKafkaConfigurationException(String description, String action) {
		this(description, action, null);
	}

	/**
	 * Create the exception with a cause.
	 * @param description what is wrong, naming the setting, table or method
	 * @param action what to change
	 * @param cause what failed, or {@code null}
	 */
	public ReliableKafkaConfigurationException(String description, String action, Throwable cause) {
		super(description + " Action: " + action, cause);
		this.description = description;
		this.action = action;
	}

	/**
	 * Return what is wrong.
	 * @return the description
	 */
	public String getDescription() {
		return this.description;
	}

	/**
	 * Return what to change.
	 * @return the action
	 */
	public String getAction() {
		return this.action;
	}

}
