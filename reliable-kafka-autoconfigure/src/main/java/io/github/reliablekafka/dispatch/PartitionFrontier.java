package io.github.reliablekafka.dispatch;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * One partition's records in offset order from its commit frontier on, and the rules of the frontier: it moves past
 * every record finished without a gap; it is acknowledged at most once per {@link #ACK_INTERVAL_NANOS}; while it
 * stands still, the records finished beyond it are committed (named in the commit's metadata) within
 * {@link #BEYOND_FRONTIER_ACK_NANOS}; the offsets the previous owner finished beyond its commit count as finished.
 *
 * <p>
 * Not thread-safe: guarded by the monitor of the {@link PartitionLanes} that owns it, which calls it holding its lock
 * and only then.
 */
final class PartitionFrontier {

	/** Acknowledgements of a partition's frontier are coalesced to at most one per interval. */
	static final long ACK_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	/**
	 * While the frontier does not move, records finishing beyond it are committed (in the commit's metadata) at most
	 * this long after they finished, plus one poll.
	 */
	static final long BEYOND_FRONTIER_ACK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	private final TopicPartition partition;

	/** Bytes in flight across the container's partitions, shared with the dispatcher. */
	private final AtomicLong bytesInFlight;

	/** Commit offsets acknowledged and not committed yet. */
	private final UncommittedOffsets uncommitted;

	/** Dispatched and not yet below the frontier, in offset order. */
	private final ArrayDeque<DispatchedRecord> order = new ArrayDeque<>();

	private long frontier = -1;

	/** The frontier's record, not yet acknowledged (acknowledgements are coalesced). */
	private @Nullable DispatchedRecord pendingAck;

	private long lastAckNanos;

	/** Records finished beyond the frontier since the last acknowledgement (see {@link #acknowledgeBeyondFrontier}). */
	private int finishedSinceAck;

	private int finishedBeyondFrontier;

	/**
	 * Offsets the partition's previous owner finished beyond the offset it committed, read from the commit's metadata:
	 * skipped when polled, and named again in this owner's commits until they are polled. {@code null} when none.
	 */
	private @Nullable OffsetRuns inherited;

	/** The offset committed when the partition was assigned, {@code -1} when not known. */
	private long assignedAt = -1;

	/** Records skipped this assignment because the previous owner had finished them. */
	private int skipped;

	/** The partition was given up: its frontier is no longer acknowledged. */
	private boolean givenUp;

	PartitionFrontier(TopicPartition partition, AtomicLong bytesInFlight, UncommittedOffsets uncommitted) {
		this.partition = partition;
		this.bytesInFlight = bytesInFlight;
		this.uncommitted = uncommitted;
	}

	/**
	 * A record was dispatched: it joins the records in offset order. When the previous owner finished it, it counts as
	 * finished here, without running again.
	 * @return whether it is to run (else it was skipped)
	 */
	boolean dispatched(DispatchedRecord task) {
		long offset = task.record.offset();
		OffsetRuns finishedBefore = this.inherited;
		this.order.addLast(task);
		boolean run = true;
		if (finishedBefore != null && finishedBefore.contains(offset)) {
			task.finished = true;
			task.counted = false;
			this.finishedBeyondFrontier++;
			this.skipped++;
			advance();
			run = false;
		}
		if (finishedBefore != null && offset >= finishedBefore.last()) {
			this.inherited = null; // every offset it names was polled
		}
		return run;
	}

	/** A record finished: the frontier moves past every record finished without a gap. */
	void finished(DispatchedRecord task) {
		task.finished = true;
		this.finishedBeyondFrontier++;
		this.finishedSinceAck++;
		advance();
	}

	/**
	 * Move the frontier past every record finished without a gap, and acknowledge it unless it was acknowledged less
	 * than {@link #ACK_INTERVAL_NANOS} ago.
	 */
	private void advance() {
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

	/** Take a record's bytes out of the bytes in flight, once. */
	void release(DispatchedRecord task) {
		if (task.counted) {
			task.counted = false;
			this.bytesInFlight.addAndGet(-task.bytes);
		}
	}

	/**
	 * The partition is given up: every held record's bytes leave the bytes in flight (queued, running, or finished
	 * behind the frontier), and the frontier is no longer acknowledged.
	 */
	void giveUp() {
		this.givenUp = true;
		this.order.forEach(this::release);
	}

	/** Acknowledge the frontier's record if it moved since the last acknowledgement. */
	void acknowledgePending(long now) {
		DispatchedRecord pending = this.pendingAck;
		if (pending != null && !this.givenUp && acknowledge(pending, now)) {
			this.pendingAck = null;
		}
	}

	/**
	 * Make the container commit the records finished beyond the frontier while the frontier does not move: when some
	 * finished since the last acknowledgement and that is {@link #BEYOND_FRONTIER_ACK_NANOS} old, acknowledge the
	 * newest finished record not acknowledged yet. Its commit is for the offset after it, which is beyond the
	 * frontier; the container asks {@link FrontierCommits} for that commit's metadata, which commits the frontier
	 * instead, with the records finished beyond it.
	 * @param now {@link System#nanoTime()}
	 */
	void acknowledgeBeyondFrontier(long now) {
		if (this.finishedSinceAck == 0 || now - this.lastAckNanos < BEYOND_FRONTIER_ACK_NANOS) {
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

	/** Take in what the commit found at assignment says (see {@link PartitionLanes#inherit}). */
	void inherit(long committed, @Nullable OffsetRuns finished) {
		this.assignedAt = committed;
		this.inherited = (finished == null || finished.isEmpty()) ? null : finished;
	}

	/** Whether the commit of {@code offset} is this partition's (see {@link UncommittedOffsets#committing}). */
	boolean committing(long offset) {
		return this.uncommitted.committing(offset);
	}

	/** The partition is gone and its commits are done: its acknowledged offsets no longer belong to it. */
	void releaseClaims() {
		this.uncommitted.release();
	}

	/**
	 * The offsets known to be finished at or above {@code base}: everything up to the frontier, the records finished
	 * beyond it, and the offsets the previous owner finished that were not polled yet (above {@code highestPolled}).
	 */
	CommitMetadata.Entry finishedFrom(long base, long highestPolled) {
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
			this.inherited.copyAbove(Math.max(highestPolled, base - 1), finished);
		}
		return new CommitMetadata.Entry(this.partition, base, finished);
	}

	/**
	 * The offset to commit for the partition: one past its frontier; before the frontier moved, the first record
	 * dispatched, else the offset committed at assignment; {@code -1} when none is known.
	 */
	long position() {
		if (this.frontier >= 0) {
			return this.frontier + 1;
		}
		DispatchedRecord first = this.order.peekFirst();
		return (first != null) ? first.record.offset() : this.assignedAt;
	}

	/** A replay from {@code offset}: what the previous owner finished no longer describes what comes next. */
	void replayFrom(long offset) {
		this.inherited = null;
		this.frontier = offset - 1;
	}

	/**
	 * Return how many records are held: queued, running, and finished but waiting behind an unfinished one (they stay
	 * until the frontier passes them). The bound on records in flight counts them all, so a record that never
	 * finishes pauses its partition instead of letting finished records pile up.
	 */
	int held() {
		return this.order.size();
	}

	/** Records finished beyond the frontier, held until it passes them. */
	int finishedBeyondFrontier() {
		return this.finishedBeyondFrontier;
	}

	/** Records held and not finished: queued, running, or given up unfinished at a hand-over. */
	int unfinished() {
		return this.order.size() - this.finishedBeyondFrontier;
	}

	/** Records skipped this assignment because the previous owner had finished them. */
	int skipped() {
		return this.skipped;
	}

	/** The record holding the frontier back (the oldest held), or {@code null} when none is held. */
	@Nullable DispatchedRecord frontierRecord() {
		return this.order.peekFirst();
	}

	/** Nanoseconds since the oldest unfinished record was dispatched; 0 when none. */
	long oldestUnfinishedNanos(long now) {
		for (DispatchedRecord record : this.order) {
			if (!record.finished) {
				return now - record.dispatchedNanos;
			}
		}
		return 0;
	}

}
