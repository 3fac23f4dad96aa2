package io.github.reliablekafka.producer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The order state of one topic and key. While no record of the key waits for a retry the lane is flowing: sends
 * go straight to the client, which keeps their order itself. Once a record fails an attempt the lane is
 * recovering: new sends queue up behind it, and when nothing of the key is in flight any more, everything queued
 * is sent again in the original order, one round at a time. All fields are guarded by the lane's monitor.
 */
final class KeyLane {

	private long nextSequence;

	int inFlight;

	boolean recovering;

	boolean roundScheduled;

	/** Smallest sequence that failed since the lane started recovering. */
	long firstFailedSequence = Long.MAX_VALUE;

	/** Set when the lane was removed from the map; a sender that finds it retired takes a new lane. */
	boolean retired;

	private final PriorityQueue<PendingSend> waiting = new PriorityQueue<>(
			Comparator.comparingLong((PendingSend send) -> send.sequence));

	long nextSequence() {
		return this.nextSequence++;
	}

	void enqueue(PendingSend send) {
		this.waiting.add(send);
	}

	boolean hasWaiting() {
		return !this.waiting.isEmpty();
	}

	List<PendingSend> drainInOrder() {
		List<PendingSend> round = new ArrayList<>(this.waiting.size());
		PendingSend send;
		while ((send = this.waiting.poll()) != null) {
			round.add(send);
		}
		return round;
	}

	int maxFailedAttempts() {
		int max = 0;
		for (PendingSend send : this.waiting) {
			max = Math.max(max, send.attempts);
		}
		return max;
	}

	boolean isIdle() {
		return this.inFlight == 0 && !this.recovering && this.waiting.isEmpty();
	}

}
