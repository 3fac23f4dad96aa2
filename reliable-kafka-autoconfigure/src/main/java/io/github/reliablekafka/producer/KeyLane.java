package io.github.reliablekafka.producer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

import org.jspecify.annotations.Nullable;

/**
 * The order state of one topic and key. All fields are guarded by the lane's monitor, which is never held while
 * the Kafka client is called.
 *
 * <p>
 * While no record of the key waits for a retry the lane is <em>flowing</em>: sends join {@link #ready} and one
 * thread at a time (the <em>drainer</em>) hands them to the client in order; the client keeps their order from
 * there. Once a record fails an attempt the lane is <em>recovering</em>: the failed record, everything not yet
 * handed over and every new send join {@link #waiting}, and when nothing of the key is in flight any more, a retry
 * round moves them back to {@link #ready} in their original order.
 */
final class KeyLane {

	final String topic;

	/** The key, {@code null} for a lane of its own that serves one record without a key. */
	final @Nullable String key;

	private long nextSequence;

	/** Records cleared to go to the client, in order. */
	final ArrayDeque<PendingSend> ready = new ArrayDeque<>(4);

	/**
	 * Records held for the next retry round, by sequence; made when the key first has one (most lanes live for one
	 * flowing send and never do).
	 */
	private @Nullable PriorityQueue<PendingSend> waiting;

	/** Whether a thread is handing {@link #ready} records to the client. */
	boolean draining;

	int inFlight;

	boolean recovering;

	boolean roundScheduled;

	/** Smallest sequence that failed since the lane started recovering. */
	long firstFailedSequence = Long.MAX_VALUE;

	/** Set when the lane was removed from the map; a sender that finds it retired takes a new lane. */
	boolean retired;

	KeyLane(String topic, @Nullable String key) {
		this.topic = topic;
		this.key = key;
	}

	long nextSequence() {
		return this.nextSequence++;
	}

	void hold(PendingSend send) {
		PriorityQueue<PendingSend> held = this.waiting;
		if (held == null) {
			held = new PriorityQueue<>(Comparator.comparingLong((PendingSend each) -> each.sequence));
			this.waiting = held;
		}
		held.add(send);
	}

	/** Move everything not yet handed to the client back to the waiting records. */
	void holdReady() {
		PendingSend send;
		while ((send = this.ready.poll()) != null) {
			hold(send);
		}
	}

	boolean hasWaiting() {
		return this.waiting != null && !this.waiting.isEmpty();
	}

	List<PendingSend> takeWaitingInOrder() {
		PriorityQueue<PendingSend> held = this.waiting;
		if (held == null) {
			return new ArrayList<>(0);
		}
		List<PendingSend> round = new ArrayList<>(held.size());
		PendingSend send;
		while ((send = held.poll()) != null) {
			round.add(send);
		}
		return round;
	}

	int maxFailedAttempts() {
		int max = 0;
		if (this.waiting != null) {
			for (PendingSend send : this.waiting) {
				max = Math.max(max, send.attempts);
			}
		}
		return max;
	}

	boolean isIdle() {
		return this.inFlight == 0 && !this.recovering && !this.draining && this.ready.isEmpty() && !hasWaiting();
	}

}
