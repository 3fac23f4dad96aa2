package io.github.reliablekafka.dispatch;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The dispatch state of one assigned partition: its lanes, the lanes that have records and wait for a worker, its
 * records in offset order until they are below the commit frontier, and its pause and ownership flags. Guarded by its
 * own monitor (its pause wish by a lock of its own, see {@link #applyPauseWish}), except the volatile flags.
 *
 * <p>
 * A partition has {@code workers} workers and {@link #LANES_PER_WORKER} times as many lanes (one lane when
 * {@code workers} is 1). A key always goes to the same lane, and a lane is served by at most one worker at a time, so
 * a key's records run one at a time in offset order. A worker serves whichever lane is ready next, so the workers stay
 * busy even when the keys do not spread evenly over the lanes, and a key that blocks holds back only the few keys of
 * its own lane.
 *
 * <p>
 * <b>Why over 400 lines:</b> it owns one partition's dispatch state and every rule that reads or changes it under its
 * lock: admission, the workers' turns, the frontier and its acknowledgements, the records finished beyond it that
 * commits name, and the hand-over at revocation. The rules stay with the lock on purpose (a rule split from its lock
 * is a race waiting to happen); the parts that need no lock live apart ({@link OffsetRuns},
 * {@link UncommittedOffsets}, {@link CommitMetadata}).
 */
final class PartitionLanes {

	/** Lanes per worker: enough that uneven key hashing does not leave workers idle while one lane lags. */
	static final int LANES_PER_WORKER = 4;

	/** {@link #admit}: the record is queued. */
	static final int QUEUED = 1;

	/** {@link #admit}: the record is queued and a new worker must be started for the partition. */
	static final int START_WORKER = 2;

	/** {@link #admit}: the partition went over its bounds and must be paused. */
	static final int PAUSE = 4;

	/** Acknowledgements of a partition's frontier are coalesced to at most one per interval. */
	static final long ACK_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	/**
	 * While the frontier does not move, records finishing beyond it are committed (in the commit's metadata) at most
	 * this long after they finished, plus one poll.
	 */
	static final long BEYOND_FRONTIER_ACK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	final TopicPartition partition;

	final Lane[] lanes;

	/** How many workers may serve this partition's lanes at once. */
	final int workers;

	/** Lanes with records that no worker serves yet, in the order they became ready. */
	private final ArrayDeque<Lane> ready = new ArrayDeque<>();

	/** Workers started for this partition and not yet finished (running, or waiting for a thread). */
	private int runners;

	/** A worker: serves ready lanes until none is left; several run at once. */
	final Runnable runner;

	/** Bytes in flight across the container's partitions, shared with the dispatcher. */
	private final AtomicLong bytesInFlight;

	/** Dispatched and not yet below the frontier, in offset order. */
	private final ArrayDeque<DispatchedRecord> order = new ArrayDeque<>();

	private long highestDispatched = -1;

	private long frontier = -1;

	/** The frontier's record, not yet acknowledged (acknowledgements are coalesced). */
	private @Nullable DispatchedRecord pendingAck;

	private long lastAckNanos;

	/** Records finished beyond the frontier since the last acknowledgement (see {@link #acknowledgeBeyondFrontier}). */
	private int finishedSinceAck;

	private int inFlight;

	private int finishedBeyondFrontier;

	volatile boolean paused;

	private final Object pauseLock = new Object();

	volatile boolean owned = true;

	/** The partition is being given up: records not started yet will not start. */
	volatile boolean stopping;

	/** The consumer thread that owns the partition (the one the container asks for commit metadata on). */
	final Thread consumer = Thread.currentThread();

	/**
	 * Offsets the partition's previous owner finished beyond the offset it committed, read from the commit's metadata:
	 * skipped when polled, and named again in this owner's commits until they are polled. {@code null} when none.
	 */
	private @Nullable OffsetRuns inherited;

	/** The offset committed when the partition was assigned, {@code -1} when not known. */
	private long assignedAt = -1;

	/** Records skipped this assignment because the previous owner had finished them. */
	private int skipped;

	/** Offsets named as finished in the metadata of the partition's latest commit. */
	volatile long commitMapSize;

	/** Commit offsets acknowledged and not committed yet. */
	private final UncommittedOffsets uncommitted;

	/**
	 * A replay was asked for: records are dropped until the consumer delivers {@link #seekTarget} (or an offset it
	 * already dispatched), which the seek brings.
	 */
	private boolean replaying;

	/** The offset a replay seeks to, {@code -1} before the seek was handed to the consumer. */
	private long seekTarget = -1;

	PartitionLanes(TopicPartition partition, int workers, AtomicLong bytesInFlight, Consumer<PartitionLanes> runner) {
		this(partition, workers, bytesInFlight, runner, new ConcurrentHashMap<>());
	}

	/**
	 * Create a partition's state.
	 * @param claims the commit offsets acknowledged and not committed yet by the partitions of the same consumer,
	 * shared by them (see {@link #acknowledge})
	 */
	PartitionLanes(TopicPartition partition, int workers, AtomicLong bytesInFlight, Consumer<PartitionLanes> runner,
			Map<Long, PartitionLanes> claims) {
		this.uncommitted = new UncommittedOffsets(this, claims);
		this.partition = partition;
		this.workers = workers;
		this.bytesInFlight = bytesInFlight;
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

	// --- consumer thread --------------------------------------------------------------------------------------------

	/**
	 * Take a polled record in: drop it when a replay's seek will deliver it again or it was dispatched already in this
	 * assignment, else queue it on its lane.
	 * @return {@code 0} when dropped, else {@link #QUEUED} with {@link #START_WORKER} and {@link #PAUSE} as needed
	 */
	synchronized int admit(DispatchedRecord task, Lane lane, int maxInFlight, long maxBytes) {
		long offset = task.record.offset();
		if (this.replaying) {
			if (this.seekTarget < 0 || (offset != this.seekTarget && offset > this.highestDispatched)) {
				return 0; // polled before the replay's seek: the seek delivers it again
			}
			this.replaying = false; // the seek happened: start over from here
			this.seekTarget = -1;
			this.highestDispatched = offset - 1;
		}
		if (offset <= this.highestDispatched) {
			return 0; // delivered again within the same assignment (a seek): the first one is in flight
		}
		this.highestDispatched = offset;
		int result = QUEUED;
		long bytes;
		OffsetRuns finishedBefore = this.inherited;
		if (finishedBefore != null && finishedBefore.contains(offset)) {
			// the previous owner finished it: it counts as finished here, without running again
			task.finished = true;
			task.counted = false;
			this.order.addLast(task);
			this.finishedBeyondFrontier++;
			this.skipped++;
			advanceFrontier();
			bytes = this.bytesInFlight.get();
		}
		else {
			this.order.addLast(task);
			this.inFlight++;
			lane.queue.addLast(task);
			if (!lane.served) {
				lane.served = true;
				this.ready.addLast(lane);
				if (this.runners < this.workers) {
					this.runners++;
					result |= START_WORKER;
				}
			}
			bytes = this.bytesInFlight.addAndGet(task.bytes);
		}
		if (finishedBefore != null && offset >= finishedBefore.last()) {
			this.inherited = null; // every offset it names was polled
		}
		if (!this.paused && (held() >= maxInFlight || bytes >= maxBytes)) {
			this.paused = true;
			result |= PAUSE;
		}
		return result;
	}

	// --- workers ----------------------------------------------------------------------------------------------------

	/**
	 * One worker's turn at the partition's lock: account for the records of its batch (run, or given up when
	 * {@code done} is false), hand the batch's lane back (ready again, behind the others, when it has more), and,
	 * unless {@code yield}, take the next ready lane's records (up to the batch's capacity) into the batch.
	 * @return whether the batch holds records to run; when not, and not yielding, the worker ends here
	 */
	synchronized boolean turn(Batch batch, boolean yield) {
		for (int i = 0; i < batch.count; i++) {
			finished(batch.records[i], batch.done[i]);
			batch.records[i] = null;
		}
		batch.count = 0;
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
		if (yield) {
			return false;
		}
		while (this.owned && !this.stopping && batch.count == 0) {
			lane = this.ready.pollFirst();
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
	synchronized void workerGone(Batch batch) {
		if (batch.lane != null) {
			if (batch.lane.queue.isEmpty()) {
				batch.lane.served = false;
			}
			else {
				this.ready.addLast(batch.lane);
			}
			batch.lane = null;
		}
		this.runners--;
	}

	/**
	 * Account for a finished record (or one given up, {@code done} false): out of flight, and, when done, the frontier
	 * moves past every record finished without a gap. Call holding the lock.
	 */
	private void finished(DispatchedRecord task, boolean done) {
		if (!this.owned) {
			return; // the partition was given up: its records were accounted for then
		}
		this.inFlight--;
		if (done) {
			task.finished = true;
			this.finishedBeyondFrontier++;
			this.finishedSinceAck++;
			advanceFrontier();
		}
		else {
			release(task);
		}
		if (this.inFlight == 0) {
			notifyAll();
		}
	}

	/**
	 * Move the frontier past every record finished without a gap, and acknowledge it unless it was acknowledged less
	 * than {@link #ACK_INTERVAL_NANOS} ago. Call holding the lock.
	 */
	private void advanceFrontier() {
		DispatchedRecord newFrontier = null;
		DispatchedRecord unacknowledged = null;
		while (!this.order.isEmpty() && this.order.peekFirst().finished) {
			newFrontier = this.order.pollFirst();
			this.finishedBeyondFrontier--;
			release(newFrontier); // a finished record counts until the frontier passes it: it is held until then
			if (!newFrontier.acknowledged) {
				unacknowledged = newFrontier;
			}
		}
		if (newFrontier != null) {
			this.frontier = newFrontier.record.offset();
			if (unacknowledged == null) {
				// every record it passed was acknowledged beyond the frontier already: the next acknowledgement beyond
				// the frontier carries the move
				this.finishedSinceAck++;
				return;
			}
			this.pendingAck = unacknowledged;
			long now = System.nanoTime();
			if (now - this.lastAckNanos >= ACK_INTERVAL_NANOS) {
				acknowledgePending(now); // queued; the consumer thread commits it at its next loop
			}
		}
	}

	/** Take a record's bytes out of the bytes in flight, once. Call holding the lock. */
	private void release(DispatchedRecord task) {
		if (task.counted) {
			task.counted = false;
			this.bytesInFlight.addAndGet(-task.bytes);
		}
	}

	/**
	 * Return how many of the partition's records the dispatcher holds: queued, running, and finished but waiting
	 * behind an unfinished one (they stay until the frontier passes them). The bound on records in flight counts
	 * them all, so a record that never finishes pauses its partition instead of letting finished records pile up.
	 * Call holding the lock.
	 * @return the records held
	 */
	private int held() {
		return this.order.size();
	}

	// --- drain, replay, revocation ----------------------------------------------------------------------------------

	/**
	 * Wait until no record of the partition is in flight, at most until {@code deadline} ({@link System#nanoTime()}).
	 * Call holding the lock.
	 * @return whether none is in flight
	 */
	private boolean awaitDrained(long deadline) throws InterruptedException {
		while (this.inFlight > 0) {
			long left = deadline - System.nanoTime();
			if (left <= 0) {
				return false;
			}
			TimeUnit.NANOSECONDS.timedWait(this, left);
		}
		return true;
	}

	/**
	 * Start giving the partition up: no record that has not started will start, and those queued on its lanes leave
	 * the flight (they stay unfinished, for the next owner).
	 * @return how many queued records were dropped
	 */
	synchronized int stop() {
		this.stopping = true;
		int dropped = 0;
		for (Lane lane : this.lanes) {
			for (DispatchedRecord task : lane.queue) {
				this.inFlight--;
				release(task);
				dropped++;
			}
			lane.queue.clear();
		}
		if (this.inFlight == 0) {
			notifyAll();
		}
		return dropped;
	}

	/**
	 * Hand the partition over: wait for its running records to finish, at most until {@code deadline}
	 * ({@link System#nanoTime()}; now for a lost partition), then give it up. Call after {@link #stop}.
	 * @return how many records were still in flight (they will be redelivered to the next owner)
	 */
	synchronized int drainAndGiveUp(long deadline) {
		try {
			awaitDrained(deadline);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		return abandon();
	}

	/**
	 * Give the partition up: acknowledge its frontier, stop its lanes and forget what is queued. Call holding the lock.
	 * @return how many records were still in flight (they will be redelivered to the next owner)
	 */
	private int abandon() {
		acknowledgePending(System.nanoTime()); // on the consumer thread: committed right after this
		int dropped = this.inFlight;
		this.owned = false; // from now on, results for it are ignored and its lanes stop
		for (DispatchedRecord task : this.order) {
			release(task); // queued, running (their results are ignored from now on) or finished behind the frontier
		}
		for (Lane lane : this.lanes) {
			lane.queue.clear();
		}
		return dropped;
	}

	/**
	 * Acknowledge what waits: the frontier's record if it moved since the last acknowledgement, and the records
	 * finished beyond a frontier that stands still (see {@link #acknowledgeBeyondFrontier}). Called periodically.
	 * @param now {@link System#nanoTime()}
	 */
	synchronized void flushAcknowledgements(long now) {
		acknowledgePending(now);
		acknowledgeBeyondFrontier(now);
	}

	/** Acknowledge the frontier's record if it moved since the last acknowledgement; call holding the lock. */
	void acknowledgePending(long now) {
		DispatchedRecord pending = this.pendingAck;
		if (pending != null && this.owned && acknowledge(pending, now)) {
			this.pendingAck = null;
		}
	}

	/**
	 * Make the container commit the records finished beyond the frontier while the frontier does not move: when some
	 * finished since the last acknowledgement and that is {@link #BEYOND_FRONTIER_ACK_NANOS} old, acknowledge the
	 * newest finished record not acknowledged yet. Its commit is for the offset after it, which is beyond the
	 * frontier; the container asks {@link FrontierCommits} for that commit's metadata, which commits the frontier
	 * instead, with the records finished beyond it. Call holding the lock.
	 * @param now {@link System#nanoTime()}
	 */
	void acknowledgeBeyondFrontier(long now) {
		if (this.finishedSinceAck == 0 || !accepting() || now - this.lastAckNanos < BEYOND_FRONTIER_ACK_NANOS) {
			return;
		}
		if (this.pendingAck != null) {
			acknowledgePending(now);
			return;
		}
		for (var records = this.order.descendingIterator(); records.hasNext();) {
			DispatchedRecord task = records.next();
			if (task.finished && !task.acknowledged) {
				acknowledge(task, now);
				return;
			}
		}
	}

	/**
	 * Use a record's acknowledgement, remembering the offset the container will commit for it, unless that offset
	 * cannot be claimed now (see {@link UncommittedOffsets#claim}; the acknowledgement waits, so that a commit is
	 * never asked for that this partition cannot recognise).
	 * @return whether it was used
	 */
	private boolean acknowledge(DispatchedRecord task, long now) {
		if (!this.uncommitted.claim(task.record.offset() + 1)) {
			return false;
		}
		this.lastAckNanos = now;
		this.finishedSinceAck = 0;
		task.acknowledged = true;
		task.acknowledgment.acknowledge();
		return true;
	}

	// --- commit metadata ------------------------------------------------------------------------------------------

	/**
	 * Take in what the commit found at assignment says: the offset committed and the offsets finished beyond it.
	 * @param committed the committed offset, {@code -1} when none
	 * @param finished the finished offsets its metadata names, or {@code null}
	 */
	synchronized void inherit(long committed, @Nullable OffsetRuns finished) {
		this.assignedAt = committed;
		this.inherited = (finished == null || finished.isEmpty()) ? null : finished;
	}

	/**
	 * Whether the commit of {@code offset} is this partition's: it acknowledged the record before it and that was not
	 * committed yet. That acknowledgement and the older ones are forgotten (their commits are superseded).
	 * @param offset the offset the container commits
	 * @return whether the commit is this partition's
	 */
	synchronized boolean committing(long offset) {
		return this.uncommitted.committing(offset);
	}

	/** The partition is gone and its commits are done: its acknowledged offsets no longer belong to it. */
	synchronized void releaseClaims() {
		this.uncommitted.release();
	}

	/**
	 * The offsets known to be finished at or above {@code base}: everything up to the frontier, the records finished
	 * beyond it, and the offsets the previous owner finished that were not polled yet.
	 * @param base the offset committed
	 * @return the entry of this partition in the commit's metadata
	 */
	synchronized CommitMetadata.Entry finishedFrom(long base) {
		OffsetRuns finished = new OffsetRuns();
		if (this.frontier >= base) {
			finished.addRange(base, this.frontier);
		}
		for (DispatchedRecord task : this.order) {
			if (task.finished && task.record.offset() >= base) {
				finished.add(task.record.offset());
			}
		}
		if (this.inherited != null) {
			this.inherited.copyAbove(Math.max(this.highestDispatched, base - 1), finished);
		}
		return new CommitMetadata.Entry(this.partition, base, finished);
	}

	/**
	 * The offset to commit for the partition: one past its frontier; before the frontier moved, the first record
	 * dispatched, else the offset committed at assignment; {@code -1} when none is known.
	 */
	synchronized long position() {
		if (this.frontier >= 0) {
			return this.frontier + 1;
		}
		DispatchedRecord first = this.order.peekFirst();
		return (first != null) ? first.record.offset() : this.assignedAt;
	}

	/**
	 * Get ready to replay the partition from {@code offset}: drop what is polled from now on, wait for the records in
	 * flight to finish (at most until {@code deadline}), acknowledge the frontier, and from then on take records in
	 * again once the consumer delivers {@code offset} (the seek that follows brings it). What the previous owner
	 * finished no longer describes what comes next, and the commits of acknowledgements made before the replay commit
	 * the replay's start instead.
	 * @param offset the offset replayed from
	 * @param deadline {@link System#nanoTime()} by which the records in flight must have finished
	 * @return {@code -1} when ready; else how many records are still in flight (nothing changed then)
	 */
	synchronized int prepareReplay(long offset, long deadline) throws InterruptedException {
		this.replaying = true;
		this.seekTarget = -1;
		if (!awaitDrained(deadline)) {
			this.replaying = false;
			return this.inFlight;
		}
		acknowledgePending(System.nanoTime());
		this.inherited = null;
		this.frontier = offset - 1;
		this.seekTarget = offset;
		return -1;
	}

	/**
	 * Resume taking records in when paused and back below {@code maxHeld} records held.
	 * @return whether the partition is to be resumed
	 */
	synchronized boolean resumeBelow(int maxHeld) {
		if (this.paused && this.owned && held() <= maxHeld) {
			this.paused = false;
			return true;
		}
		return false;
	}

	/** Records dispatched and not finished (queued or running). */
	synchronized int inFlight() {
		return this.inFlight;
	}

	/** Records finished beyond the frontier, held until it passes them. */
	synchronized int finishedBeyondFrontier() {
		return this.finishedBeyondFrontier;
	}

	/** Records held and not finished: queued, running, or given up unfinished at a hand-over. */
	synchronized int unfinished() {
		return this.order.size() - this.finishedBeyondFrontier;
	}

	/** Records skipped this assignment because the previous owner had finished them. */
	synchronized int skipped() {
		return this.skipped;
	}

	/** The record holding the frontier back (the oldest held), or {@code null} when none is held. */
	synchronized @Nullable DispatchedRecord frontierRecord() {
		return this.order.peekFirst();
	}

	/**
	 * Apply the partition's latest pause wish ({@link #paused}) under its pause lock, so that a pause (from the
	 * consumer thread) and a resume (from a worker) racing each other are applied in order and cannot leave the
	 * partition paused with nobody to resume it.
	 * @param apply applies the wish to the containers
	 */
	void applyPauseWish(java.util.function.Consumer<Boolean> apply) {
		synchronized (this.pauseLock) {
			apply.accept(this.paused);
		}
	}

	/** Whether records of the partition may start: it is owned and not being given up. */
	boolean accepting() {
		return this.owned && !this.stopping;
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

		/** Whether the lane is ready (in {@link PartitionLanes#ready}) or a worker is running its records. */
		boolean served;

	}

	/** The records a worker took from one lane, and which of them it finished. */
	static final class Batch {

		final DispatchedRecord[] records;

		final boolean[] done;

		int count;

		@Nullable Lane lane;

		Batch(int capacity) {
			this.records = new DispatchedRecord[capacity];
			this.done = new boolean[capacity];
		}

	}

}
