package io.github.reliablekafka.idempotency;

/**
 * Hears the outcome of every guard check; the library's metrics are one.
 */
public interface GuardListener {

	/** Hears nothing. */
	GuardListener NONE = (store, result) -> {
	};

	/**
	 * A check reached a result.
	 * @param store the store, as in {@link IdempotencyGuard#store()}
	 * @param result {@code new} (the work ran), {@code duplicate} (it did not) or {@code fallback} (two-tier decided
	 * without Redis)
	 */
	void checked(String store, String result);

}
