package io.github.reliablekafka.consumer;

/**
 * What a reliable listener does with a record whose value is null (a tombstone) or empty.
 */
public enum NullPayload {

	/** Skip it: log it with its topic, partition and offset, count it, and commit past it. */
	SKIP,

	/** Send it to the dead-letter topic, as poison. */
	DEAD_LETTER,

	/** Deliver it: the payload parameter is {@code null} (declare it {@code @Payload(required = false)}). */
	DELIVER

}
