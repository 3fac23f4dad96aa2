package io.github.reliablekafka.dispatch;

import java.util.ArrayDeque;
import java.util.function.Consumer;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The dispatch state of one assigned partition: its lanes, the lanes that have records and wait for a worker, its
 * records in offset order until they are below the commit frontier, and its pause and ownership flags. Guarded by its
 * own monitor, except the volatile flags.
 *
 * <p>
 * A partition has {@code workers} workers and {@link #LANES_PER_WORKER} times as many lanes (one lane when
 * {@code workers} is 1). A key always goes to the same lane, and a lane is served by at most one worker at a time, so
 * a key's records run one at a time in offset order. A worker serves whichever lane is ready next, so the workers stay
 * busy even when the keys do not spread evenly over the lanes, and a key that blocks holds back only the few keys of
 * its own lane.
 */
final class PartitionLanes {

	/** Lanes per worker: enough that uneven key hashing does not leave workers idle while one lane lags. */
	static final int LANES_PER_WORKER = 4;

	final TopicPartition partition;

	final Lane[] lanes;

	/** How many workers may serve this partition's lanes at once. */
	final int workers;

	/** Lanes with records that no worker serves yet, in the order they became ready. */
	final ArrayDeque<Lane> ready = new ArrayDeque<>();

	/** Workers started for this partition and not yet finished (running, or waiting for a thread). */
	int runners;

	/** A worker: serves ready lanes until none is left; several run at once. */
	final Runnable runner;

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

	PartitionLanes(TopicPartition partition, int workers, Consumer<PartitionLanes> runner) {
		this.partition = partition;
		this.workers = workers;
		this.lanes = new Lane[laneCount(workers)];
		for (int i = 0; i < this.lanes.length; i++) {
			this.lanes[i] = new Lane();
		}
		this.runner = () -> runner.accept(this);
	}

	/**
	 * The number of lanes of a partition with {@code workers} workers.
	 * @param workers the workers per partition
	 * @return the lanes per partition
	 */
	static int laneCount(int workers) {
		return (workers == 1) ? 1 : workers * LANES_PER_WORKER;
	}

	/**
	 * Queue a record on its lane; call holding the lock.
	 * @return whether a new worker must be started for this partition (the caller starts it, outside the lock)
	 */
	boolean enqueue(Lane lane, DispatchedRecord task) {
		lane.queue.addLast(task);
		if (lane.served) {
			return false; // ready already, or being served: its worker takes this record in turn
		}
		lane.served = true;
		this.ready.addLast(lane);
		if (this.runners < this.workers) {
			this.runners++;
			return true;
		}
		return false;
	}

	/**
	 * Hand a lane back after a worker took one of its records; call holding the lock. A lane with more records is
	 * ready again, behind the others.
	 */
	void release(Lane lane) {
		if (lane.queue.isEmpty()) {
			lane.served = false;
		}
		else {
			this.ready.addLast(lane);
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

	/** One lane: its records run one at a time, in offset order, by one worker at a time. */
	static final class Lane {

		final ArrayDeque<DispatchedRecord> queue = new ArrayDeque<>();

		/** Whether the lane is ready (in {@link PartitionLanes#ready}) or a worker is running one of its records. */
		boolean served;

	}

}
