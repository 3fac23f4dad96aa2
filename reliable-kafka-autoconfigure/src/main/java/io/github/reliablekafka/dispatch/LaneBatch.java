package io.github.reliablekafka.dispatch;

import org.jspecify.annotations.Nullable;

/**
 * The records a worker took from one lane, and which of them it finished. Owned by one worker; handed to its
 * {@link PartitionLanes} at each turn.
 */
final class LaneBatch {

	final DispatchedRecord[] records;

	final boolean[] done;

	int count;

	@Nullable Lane lane;

	LaneBatch(int capacity) {
		this.records = new DispatchedRecord[capacity];
		this.done = new boolean[capacity];
	}

}
