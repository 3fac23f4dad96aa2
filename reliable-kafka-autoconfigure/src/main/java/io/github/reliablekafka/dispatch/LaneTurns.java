package io.github.reliablekafka.dispatch;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Which lane a partition's workers serve next: the lanes with records that no worker serves yet, in the order they
 * became ready, and how many workers run for the partition (at most {@code workers}). A lane is served by one worker
 * at a time, so a key's records run one at a time in offset order; a worker serves whichever lane is ready next, so
 * the workers stay busy even when the keys do not spread evenly over the lanes.
 *
 * <p>
 * Not thread-safe: guarded by the monitor of the {@link PartitionLanes} that owns it.
 */
final class LaneTurns {

	/** Lanes per worker: enough that uneven key hashing does not leave workers idle while one lane lags. */
	static final int LANES_PER_WORKER = 4;

	final Lane[] lanes;

	/** How many workers may serve the partition's lanes at once. */
	private final int workers;

	/** Lanes with records that no worker serves yet, in the order they became ready. */
	private final ArrayDeque<Lane> ready = new ArrayDeque<>();

	/** Workers started for the partition and not yet finished (running, or waiting for a thread). */
	private int runners;

	LaneTurns(int workers) {
		this.workers = workers;
		this.lanes = new Lane[laneCount(workers)];
		for (int i = 0; i < this.lanes.length; i++) {
			this.lanes[i] = new Lane();
		}
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
	 * Queue a record on its lane.
	 * @return whether a new worker must be started for the partition
	 */
	boolean queue(DispatchedRecord task, Lane lane) {
		lane.queue.addLast(task);
		if (lane.served) {
			return false;
		}
		lane.served = true;
		this.ready.addLast(lane);
		if (this.runners < this.workers) {
			this.runners++;
			return true;
		}
		return false;
	}

	/** Hand a batch's lane back: ready again, behind the others, when it has more records, else no longer served. */
	void handBack(LaneBatch batch) {
		Lane lane = batch.lane;
		batch.lane = null;
		if (lane != null) {
			if (lane.queue.isEmpty()) {
				lane.served = false;
			}
			else {
				this.ready.addLast(lane);
			}
		}
	}

	/**
	 * Take the next ready lane's records (up to the batch's capacity) into an empty batch.
	 * @param accepting whether records may start; when not, nothing is taken
	 * @return whether the batch holds records to run; when not, the worker ends here and no longer counts
	 */
	boolean take(LaneBatch batch, boolean accepting) {
		while (accepting && batch.count == 0) {
			Lane lane = this.ready.pollFirst();
			if (lane == null) {
				break;
			}
			while (batch.count < batch.records.length && !lane.queue.isEmpty()) {
				batch.records[batch.count++] = lane.queue.pollFirst();
			}
			if (batch.count == 0) {
				lane.served = false; // emptied when a revocation cleared the queues
			}
			else {
				batch.lane = lane;
			}
		}
		if (batch.count == 0) {
			this.runners--;
			return false;
		}
		return true;
	}

	/** A worker ends without its turn (the pool refused it, or it failed): it no longer counts. */
	void workerGone(LaneBatch batch) {
		handBack(batch);
		this.runners--;
	}

	/**
	 * Empty every lane.
	 * @param each sees each record taken off a lane
	 * @return how many records were taken off
	 */
	int clear(Consumer<DispatchedRecord> each) {
		int cleared = 0;
		for (Lane lane : this.lanes) {
			for (DispatchedRecord task : lane.queue) {
				each.accept(task);
				cleared++;
			}
			lane.queue.clear();
		}
		return cleared;
	}

	/** The most records queued on one lane. */
	int maxLaneDepth() {
		int max = 0;
		for (Lane lane : this.lanes) {
			max = Math.max(max, lane.queue.size());
		}
		return max;
	}

}
