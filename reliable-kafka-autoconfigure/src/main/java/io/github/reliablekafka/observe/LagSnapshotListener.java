package io.github.reliablekafka.observe;

/**
 * Told each new lag snapshot (the gauges).
 */
@FunctionalInterface
public interface LagSnapshotListener {

	/**
	 * A snapshot was taken.
	 * @param snapshot the snapshot
	 */
	void refreshed(LagSnapshot snapshot);

}
