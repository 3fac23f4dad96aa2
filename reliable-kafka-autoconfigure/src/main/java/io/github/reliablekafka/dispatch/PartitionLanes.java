package io.github.reliablekafka.dispatch;

import java.util.ArrayDeque;
import java.util.function.Consumer;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The dispatch state of one assigned partition: its lanes, its records in offset order until they are below the
 * commit frontier, and its pause and ownership flags. Guarded by its own monitor, except the volatile flags.
 */
final class PartitionLanes {

	final TopicPartition partition;

	final Lane[] lanes;

	/** Dispatched and not yet below the frontier, in offset order. */
	final ArrayDeque<DispatchedRecord> order = new ArrayDeque<>();

	long highestDispatched = -1;

	long frontier = -1;

	/** The frontier's record, not yet acknowledged (acknowledgements are coalesced). */
	@Nullable DispatchedRecord pendingAck;

	long lastAckNanos;

	int inFlight;

	int finishedBeyondFrontier;

	volatile boolean paused;

	final Object pauseLock = new Object();

	volatile boolean owned = true;

	/**
	 * A replay was asked for: records are dropped until the consumer delivers {@link #seekTarget} (or an offset it
	 * already dispatched), which the seek brings.
	 */
	boolean replaying;

	/** The offset a replay seeks to, {@code -1} before the seek was handed to the consumer. */
	long seekTarget = -1;

	PartitionLanes(TopicPartition partition, int workers, Consumer<Lane> runner) {
		this.partition = partition;
		this.lanes = new Lane[workers];
		for (int i = 0; i < workers; i++) {
			this.lanes[i] = new Lane(this, runner);
		}
	}

	/** Acknowledge the frontier's record if it moved since the last acknowledgement; call holding the lock. */
	void acknowledgePending(long now) {
		DispatchedRecord pending = this.pendingAck;
		if (pending != null && this.owned) {
			this.pendingAck = null;
			this.lastAckNanos = now;
			pending.acknowledgment.acknowledge();
		}
	}

	String committedUpTo() {
		return (this.frontier < 0) ? "(none this assignment)" : String.valueOf(this.frontier + 1);
	}

	synchronized int maxLaneDepth() {
		int max = 0;
		for (Lane lane : this.lanes) {
			max = Math.max(max, lane.queue.size());
		}
		return max;
	}

	/** Nanoseconds since the oldest unfinished record was dispatched; 0 when none. */
	synchronized long oldestUnfinishedNanos(long now) {
		for (DispatchedRecord record : this.order) {
			if (!record.finished) {
				return now - record.dispatchedNanos;
			}
		}
		return 0;
	}

	/** One lane: its records run one at a time, in offset order, on the dispatcher's threads. */
	static final class Lane implements Runnable {

		final PartitionLanes state;

		final ArrayDeque<DispatchedRecord> queue = new ArrayDeque<>();

		boolean scheduled;

		private final Consumer<Lane> runner;

		Lane(PartitionLanes state, Consumer<Lane> runner) {
			this.state = state;
			this.runner = runner;
		}

		@Override
		public void run() {
			this.runner.accept(this);
		}

	}

}
