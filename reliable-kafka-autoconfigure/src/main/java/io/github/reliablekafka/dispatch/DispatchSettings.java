package io.github.reliablekafka.dispatch;

import java.time.Duration;

/**
 * The bounds of one dispatcher.
 *
 * @param ordering {@link Ordering#KEY} or {@link Ordering#NONE}
 * @param workers records of one partition processed at once (its workers); keys are hashed onto four lanes per
 * worker
 * @param maxThreads threads shared by all the lanes of a container
 * @param maxInFlightPerPartition records of one partition dispatched and not finished before it is paused
 * @param maxInFlightBytes bytes (keys and values) of a container's records dispatched and not finished before the
 * partitions receiving more are paused
 * @param drainTimeout how long the running records of revoked partitions (and of all partitions at shutdown) may
 * take to finish before the frontier is committed and the rest dropped; records not started are not run
 * @param virtualThreads whether lanes run on virtual threads (JDK 21+; ignored before)
 * @param frontierWarning how old the record holding a partition's commit frontier back may get before it is logged
 */
public record DispatchSettings(Ordering ordering, int workers, int maxThreads, int maxInFlightPerPartition,
		long maxInFlightBytes, Duration drainTimeout, boolean virtualThreads, Duration frontierWarning) {

	public DispatchSettings {
		if (ordering == Ordering.PARTITION) {
			throw new IllegalArgumentException("Ordering.PARTITION is not dispatched");
		}
		requirePositive(workers, "workers");
		requirePositive(maxThreads, "max-threads");
		requirePositive(maxInFlightPerPartition, "max-in-flight-per-partition");
		if (maxInFlightBytes <= 0) {
			throw new IllegalArgumentException(
					"reliable.kafka.consumer.dispatch.max-in-flight-bytes must be positive, was " + maxInFlightBytes);
		}
		if (drainTimeout.isNegative()) {
			throw new IllegalArgumentException("reliable.kafka.consumer.dispatch.drain-timeout must not be negative");
		}
	}

	private static void requirePositive(int value, String name) {
		if (value < 1) {
			throw new IllegalArgumentException(
					"reliable.kafka.consumer.dispatch." + name + " must be at least 1, was " + value);
		}
	}

	/**
	 * The lanes of each partition: keys are hashed onto them, and the {@link #workers()} workers serve them.
	 * @return the lanes per partition
	 */
	public int lanes() {
		return LaneTurns.laneCount(this.workers);
	}

	/**
	 * The same settings with another ordering and number of lanes.
	 * @param ordering the ordering
	 * @param workers the lanes per partition
	 * @return the settings
	 */
	public DispatchSettings with(Ordering ordering, int workers) {
		return new DispatchSettings(ordering, workers, this.maxThreads, this.maxInFlightPerPartition,
				this.maxInFlightBytes, this.drainTimeout, this.virtualThreads, this.frontierWarning);
	}

}
