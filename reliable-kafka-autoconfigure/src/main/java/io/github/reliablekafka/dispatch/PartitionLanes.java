package io.github.reliablekafka.dispatch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The dispatch state of one assigned partition and the lock that guards it: its lanes and their turns
 * ({@link LaneTurns}), its records in offset order and its commit frontier ({@link PartitionFrontier}), and its pause
 * and ownership flags. Every rule that reads or changes that state runs here, under this object's monitor (the pause
 * wish under a lock of its own, see {@link #applyPauseWish}); the parts it delegates to are not thread-safe and are
 * called only from here, holding the lock.
 *
 * <p>
 * A partition has {@code workers} workers and {@link LaneTurns#LANES_PER_WORKER} times as many lanes (one lane when
 * {@code workers} is 1). A key always goes to the same lane, and a lane is served by at most one worker at a time, so
 * a key's records run one at a time in offset order, and a key that blocks holds back only the few keys of its own
 * lane.
 */
final class PartitionLanes {

	/** {@link #admit}: the record is queued. */
	static final int QUEUED = 1;

	/** {@link #admit}: the record is queued and a new worker must be started for the partition. */
	static final int START_WORKER = 2;

	/** {@link #admit}: the partition went over its bounds and must be paused. */
	static final int PAUSE = 4;

	final TopicPartition partition;

	/** How many workers may serve this partition's lanes at once. */
	final int workers;

	/** A worker: serves ready lanes until none is left; several run at once. */
	final Runnable runner;

	private final LaneTurns turns;

	private final PartitionFrontier frontier;

	/** Bytes in flight across the container's partitions, shared with the dispatcher. */
	private final AtomicLong bytesInFlight;

	private long highestDispatched = -1;

	private int inFlight;

	volatile boolean paused;

	private final Object pauseLock = new Object();

	volatile boolean owned = true;

	/** The partition is being given up: records not started yet will not start. */
	volatile boolean stopping;

	/** The consumer thread that owns the partition (the one the container asks for commit metadata on). */
	final Thread consumer = Thread.currentThread();

	/** Offsets named as finished in the metadata of the partition's latest commit. */
	volatile long commitMapSize;

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
	 * shared by them (see {@link UncommittedOffsets})
	 */
	PartitionLanes(TopicPartition partition, int workers, AtomicLong bytesInFlight, Consumer<PartitionLanes> runner,
			Map<Long, PartitionLanes> claims) {
		this.partition = partition;
		this.workers = workers;
		this.bytesInFlight = bytesInFlight;
		this.turns = new LaneTurns(workers);
		this.frontier = new PartitionFrontier(partition, bytesInFlight, new UncommittedOffsets(this, claims));
		this.runner = () -> runner.accept(this);
	}

	/** The partition's lanes; a key's lane is {@code lanes()[LaneHash.laneOf(key, lanes().length)]}. */
	Lane[] lanes() {
		return this.turns.lanes;
	}

	// --- consumer thread --------------------------------------------------------------------------------------------

	/**
	 * Take a polled record in: drop it when a replay's seek will deliver it again or it was dispatched already in this
	 * assignment, count it as finished when the previous owner finished it, else queue it on its lane.
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
		if (this.frontier.dispatched(task)) {
			this.inFlight++;
			if (this.turns.queue(task, lane)) {
				result |= START_WORKER;
			}
			bytes = this.bytesInFlight.addAndGet(task.bytes);
		}
		else {
			bytes = this.bytesInFlight.get(); // the previous owner finished it: it does not run again
		}
		if (!this.paused && (this.frontier.held() >= maxInFlight || bytes >= maxBytes)) {
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
	synchronized boolean turn(LaneBatch batch, boolean yield) {
		for (int i = 0; i < batch.count; i++) {
			finished(batch.records[i], batch.done[i]);
			batch.records[i] = null;
		}
		batch.count = 0;
		this.turns.handBack(batch);
		if (yield) {
			return false;
		}
		return this.turns.take(batch, accepting());
	}

	/** A worker ends without its turn (the pool refused it, or it failed): it no longer counts. */
	synchronized void workerGone(LaneBatch batch) {
		this.turns.workerGone(batch);
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
			this.frontier.finished(task);
		}
		else {
			this.frontier.release(task);
		}
		if (this.inFlight == 0) {
			notifyAll();
		}
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
		int dropped = this.turns.clear(this.frontier::release);
		this.inFlight -= dropped;
		if (this.inFlight == 0) {
			notifyAll();
		}
		return dropped;
	}

	/**
	 * Hand the partition over: wait for its running records to finish, at most until {@code deadline}
	 * ({@link System#nanoTime()}; now for a lost partition), then give it up: acknowledge its frontier, stop its lanes
	 * and forget what is queued. Call after {@link #stop}.
	 * @return how many records were still in flight (they will be redelivered to the next owner)
	 */
	synchronized int drainAndGiveUp(long deadline) {
		try {
			awaitDrained(deadline);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		acknowledgePending(System.nanoTime()); // on the consumer thread: committed right after this
		int dropped = this.inFlight;
		this.owned = false; // from now on, results for it are ignored and its lanes stop
		this.frontier.giveUp();
		this.turns.clear((task) -> {
		});
		return dropped;
	}

	/**
	 * Acknowledge what waits: the frontier's record if it moved since the last acknowledgement, and the records
	 * finished beyond a frontier that stands still (see {@link PartitionFrontier#acknowledgeBeyondFrontier}). Called
	 * periodically.
	 * @param now {@link System#nanoTime()}
	 */
	synchronized void flushAcknowledgements(long now) {
		acknowledgePending(now);
		acknowledgeBeyondFrontier(now);
	}

	/** Acknowledge the frontier's record if it moved since the last acknowledgement; call holding the lock. */
	void acknowledgePending(long now) {
		if (this.owned) {
			this.frontier.acknowledgePending(now);
		}
	}

	/** See {@link PartitionFrontier#acknowledgeBeyondFrontier}; call holding the lock. */
	void acknowledgeBeyondFrontier(long now) {
		if (accepting()) {
			this.frontier.acknowledgeBeyondFrontier(now);
		}
	}

	// --- commit metadata ------------------------------------------------------------------------------------------

	/**
	 * Take in what the commit found at assignment says: the offset committed and the offsets finished beyond it.
	 * @param committed the committed offset, {@code -1} when none
	 * @param finished the finished offsets its metadata names, or {@code null}
	 */
	synchronized void inherit(long committed, @Nullable OffsetRuns finished) {
		this.frontier.inherit(committed, finished);
	}

	/** See {@link UncommittedOffsets#committing}: whether the commit of {@code offset} is this partition's. */
	synchronized boolean committing(long offset) {
		return this.frontier.committing(offset);
	}

	/** The partition is gone and its commits are done: its acknowledged offsets no longer belong to it. */
	synchronized void releaseClaims() {
		this.frontier.releaseClaims();
	}

	/**
	 * The offsets known to be finished at or above {@code base}: everything up to the frontier, the records finished
	 * beyond it, and the offsets the previous owner finished that were not polled yet.
	 * @param base the offset committed
	 * @return the entry of this partition in the commit's metadata
	 */
	synchronized CommitMetadata.Entry finishedFrom(long base) {
		return this.frontier.finishedFrom(base, this.highestDispatched);
	}

	/** See {@link PartitionFrontier#position()}. */
	synchronized long position() {
		return this.frontier.position();
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
		this.frontier.replayFrom(offset);
		this.seekTarget = offset;
		return -1;
	}

	/**
	 * Resume taking records in when paused and back below {@code maxHeld} records held.
	 * @return whether the partition is to be resumed
	 */
	synchronized boolean resumeBelow(int maxHeld) {
		if (this.paused && this.owned && this.frontier.held() <= maxHeld) {
			this.paused = false;
			return true;
		}
		return false;
	}

	/**
	 * Apply the partition's latest pause wish ({@link #paused}) under its pause lock, so that a pause (from the
	 * consumer thread) and a resume (from a worker) racing each other are applied in order and cannot leave the
	 * partition paused with nobody to resume it.
	 * @param apply applies the wish to the containers
	 */
	void applyPauseWish(Consumer<Boolean> apply) {
		synchronized (this.pauseLock) {
			apply.accept(this.paused);
		}
	}

	/** Whether records of the partition may start: it is owned and not being given up. */
	boolean accepting() {
		return this.owned && !this.stopping;
	}

	// --- numbers ----------------------------------------------------------------------------------------------------

	/** Records dispatched and not finished (queued or running). */
	synchronized int inFlight() {
		return this.inFlight;
	}

	/** Records finished beyond the frontier, held until it passes them. */
	synchronized int finishedBeyondFrontier() {
		return this.frontier.finishedBeyondFrontier();
	}

	/** Records held and not finished: queued, running, or given up unfinished at a hand-over. */
	synchronized int unfinished() {
		return this.frontier.unfinished();
	}

	/** Records skipped this assignment because the previous owner had finished them. */
	synchronized int skipped() {
		return this.frontier.skipped();
	}

	/** The record holding the frontier back (the oldest held), or {@code null} when none is held. */
	synchronized @Nullable DispatchedRecord frontierRecord() {
		return this.frontier.frontierRecord();
	}

	synchronized int maxLaneDepth() {
		return this.turns.maxLaneDepth();
	}

	/** Nanoseconds since the oldest unfinished record was dispatched; 0 when none. */
	synchronized long oldestUnfinishedNanos(long now) {
		return this.frontier.oldestUnfinishedNanos(now);
	}

}
