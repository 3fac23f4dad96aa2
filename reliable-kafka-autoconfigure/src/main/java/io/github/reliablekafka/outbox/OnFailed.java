package io.github.reliablekafka.outbox;

/**
 * What a row that failed for good does to the later rows of its key.
 */
public enum OnFailed {

	/**
	 * The failed row is set aside ({@code FAILED}) and the key's later rows go on: a known, logged break of that
	 * key's order.
	 */
	PARK,

	/**
	 * The failed row holds its key: no later row of the key is published until an operator re-queues it.
	 */
	BLOCK

}
