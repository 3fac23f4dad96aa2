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

	/**
	 * A record of a listener in a group of the given type reached an outcome. By default the same as
	 * {@link #record(String, String)}.
	 * @param listener the listener id
	 * @param group the kind of group the listener reads in
	 * @param result as for {@link #record(String, String)}
	 */
	default void record(String listener, GroupType group, String result) {
		record(listener, result);
	}

}
