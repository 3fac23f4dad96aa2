package io.github.reliablekafka.dispatch;

import java.util.ArrayDeque;

/**
 * One lane of a partition: its records run one at a time, in offset order, by one worker at a time. Guarded by the
 * monitor of its {@link PartitionLanes}.
 */
final class Lane {

	final ArrayDeque<DispatchedRecord> queue = new ArrayDeque<>();

	/** Whether the lane is ready (waiting for a worker) or a worker is running its records. */
	boolean served;

}
