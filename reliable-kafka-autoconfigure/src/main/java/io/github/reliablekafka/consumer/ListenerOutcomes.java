package io.github.reliablekafka.consumer;

/**
 * Counts what happened to the records of each reliable listener.
 */
public interface ListenerOutcomes {

	/** Counts nothing. */
	ListenerOutcomes NONE = (listener, result) -> {
	};

	/**
	 * A record reached an outcome.
	 * @param listener the listener id
	 * @param result one of {@code success}, {@code retried} (an attempt failed and will be retried),
	 * {@code dead-lettered} or {@code skipped}
	 */
	void record(String listener, String result);

}
