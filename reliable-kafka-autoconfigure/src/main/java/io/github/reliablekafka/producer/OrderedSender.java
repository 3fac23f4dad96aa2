package io.github.reliablekafka.producer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.RetryBackoff;
import io.github.reliablekafka.producer.TopicAvailability.Verdict;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.support.SendResult;

/**
 * Hands records to the Kafka client in key order and retries the ones it gives up on, in rounds that keep each
 * key's order (see {@link KeyLane}). Never holds a lane's monitor while calling the client, never calls the client
 * on the client's own I/O thread, and lets only one attempt at a time block on a topic whose metadata is missing
 * (see {@link TopicAvailability}).
 */
final class OrderedSender {

	/** Where final and intermediate outcomes go. */
	interface Outcomes {

		void succeeded(PendingSend send, SendResult<String, byte[]> result, boolean orderBroken);

		void retrying(PendingSend send, Throwable cause, Duration retryIn);

		void failed(PendingSend send, Throwable cause);

	}

	private final KafkaOperations<String, byte[]> kafka;

	private final RetryBackoff retry;

	private final Outcomes outcomes;

	private final Executor outcomeExecutor;

	/** Times retry rounds; never blocks. */
	private final ScheduledExecutorService scheduler;

	/** Runs retry rounds, whose client calls may block on metadata. */
	private final ExecutorService resender;

	/** The live lanes, by topic and key: a send looks its lane up without building a key object. */
	private final Map<String, Map<String, KeyLane>> lanes = new ConcurrentHashMap<>();

	private final TopicAvailability topics = new TopicAvailability();

	private volatile boolean closed;

	OrderedSender(KafkaOperations<String, byte[]> kafka, RetryBackoff retry, Outcomes outcomes,
			Executor outcomeExecutor, ScheduledExecutorService scheduler, ExecutorService resender) {
		this.kafka = kafka;
		this.retry = retry;
		this.outcomes = outcomes;
		this.outcomeExecutor = outcomeExecutor;
		this.scheduler = scheduler;
		this.resender = resender;
	}

	/**
	 * Send a record after the ones of its key sent before it.
	 * @param send the record, holding a permit
	 */
	void submit(PendingSend send) {
		while (true) {
			KeyLane lane = laneFor(send);
			synchronized (lane) {
				if (lane.retired) {
					continue; // retired between look-up and lock: a key must never have two live lanes
				}
				send.sequence = lane.nextSequence();
				if (lane.recovering) {
					lane.hold(send);
					return;
				}
				if (lane.draining) {
					lane.ready.add(send);
					return; // the thread draining the lane sends it, in order
				}
				lane.draining = true; // nothing of the key waits: this thread sends it now and drains after it
				lane.inFlight++;
			}
			drain(lane, null, send);
			return;
		}
	}

	/**
	 * Stop retrying later: rounds waiting for their back-off run now, and from here on a failed attempt is final.
	 */
	void close() {
		this.closed = true;
		this.scheduler.shutdownNow();
		for (KeyLane lane : liveLanes()) {
			runRound(lane);
		}
	}

	/**
	 * Fail every record still waiting in a lane; the last step of closing, after the client was closed.
	 */
	void abandonAll() {
		for (KeyLane lane : liveLanes()) {
			List<PendingSend> left;
			synchronized (lane) {
				lane.holdReady();
				left = lane.takeWaitingInOrder();
				lane.recovering = false;
			}
			left.forEach((send) -> this.outcomes.failed(send, closedCause(send)));
		}
	}

	private KeyLane laneFor(PendingSend send) {
		String topic = send.record.topic();
		String key = send.record.key();
		if (key == null) {
			return new KeyLane(topic, null); // no key, no order to keep: a lane of its own
		}
		Map<String, KeyLane> byKey = this.lanes.get(topic);
		if (byKey == null) {
			byKey = this.lanes.computeIfAbsent(topic, (name) -> new ConcurrentHashMap<>());
		}
		KeyLane lane = byKey.get(key);
		return (lane != null) ? lane : byKey.computeIfAbsent(key, (name) -> new KeyLane(topic, name));
	}

	private List<KeyLane> liveLanes() {
		List<KeyLane> live = new ArrayList<>();
		this.lanes.values().forEach((byKey) -> live.addAll(byKey.values()));
		return live;
	}

	/**
	 * Hand the lane's ready records to the client in order, without holding the lane's monitor while the client is
	 * called. Senders of the same key that arrive meanwhile only queue their record; the draining thread hands it
	 * over (a client send takes microseconds unless the client blocks, and then every sender would block anyway).
	 * @param claimed {@link Verdict#PROBE} when the first attempt is the probe of an unavailable topic
	 * @param first a record to send first, already counted in flight, or {@code null}
	 */
	private void drain(KeyLane lane, @Nullable Verdict claimed, @Nullable PendingSend first) {
		Verdict verdict = claimed;
		PendingSend next = (first != null) ? first : takeReady(lane, verdict);
		while (next != null) {
			Throwable timeout = attempt(lane, next, verdict);
			verdict = null;
			if (timeout != null) {
				// the client just waited max.block.ms for this topic in vain: the rest would do the same
				List<PendingSend> rest;
				synchronized (lane) {
					rest = new ArrayList<>(lane.ready);
					lane.ready.clear();
				}
				failAttempt(lane, rest, timeout);
			}
			next = takeReady(lane, null);
		}
	}

	/** The lane's next ready record, counted in flight; or the drain's end ({@code null}), releasing an unused probe. */
	private @Nullable PendingSend takeReady(KeyLane lane, @Nullable Verdict unused) {
		List<PendingSend> abandoned = new ArrayList<>(0);
		synchronized (lane) {
			PendingSend next = lane.ready.poll();
			if (next != null) {
				lane.inFlight++;
				return next;
			}
			lane.draining = false;
			afterInFlightChange(lane, abandoned);
		}
		if (unused == Verdict.PROBE) {
			this.topics.release(lane.topic).forEach(this::wake);
		}
		fail(abandoned);
		return null;
	}

	/**
	 * Hand one record to the client; its outcome is processed on the outcome executor.
	 * @return the time-out the client threw after blocking, {@code null} when it took the record
	 */
	private @Nullable Throwable attempt(KeyLane lane, PendingSend send, @Nullable Verdict claimed) {
		send.attempts++;
		String topic = send.record.topic();
		Verdict verdict = (claimed != null) ? claimed : this.topics.claim(topic, null);
		CompletableFuture<SendResult<String, byte[]>> sent;
		Throwable timeout = null;
		send.attemptUnsent = false;
		if (verdict == Verdict.WAIT) {
			send.attemptUnsent = true;
			sent = CompletableFuture.failedFuture(this.topics.cause(topic));
		}
		else {
			long start = System.nanoTime();
			try {
				sent = this.kafka.send(send.record);
			}
			catch (RuntimeException ex) {
				send.attemptUnsent = true; // refused before it left the client: metadata, size, serialization
				sent = CompletableFuture.failedFuture(ex);
				Throwable cause = KafkaErrors.unwrap(ex);
				if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
					timeout = cause;
				}
			}
			TopicAvailability.Result result = this.topics.report(topic, verdict, System.nanoTime() - start, timeout);
			result.waiters().forEach((waiter) -> {
				if (result.out()) {
					probeFailed(waiter, result.cause());
				}
				else {
					wake(waiter);
				}
			});
		}
		sent.whenCompleteAsync((result, failure) -> completed(lane, send, result, failure), this.outcomeExecutor);
		return timeout;
	}

	private void completed(KeyLane lane, PendingSend send, @Nullable SendResult<String, byte[]> result,
			@Nullable Throwable failure) {
		boolean orderBroken = false;
		boolean retrying = false;
		List<PendingSend> abandoned = new ArrayList<>();
		if (failure != null && !send.attemptUnsent && !KafkaErrors.isPermanent(failure)) {
			send.maybeWritten = true; // it had left the client: the broker may have written it before the failure
		}
		synchronized (lane) {
			lane.inFlight--;
			if (failure == null) {
				orderBroken = lane.recovering && !send.inRetryRound && send.sequence > lane.firstFailedSequence;
			}
			else if (!this.closed && !KafkaErrors.isPermanent(failure) && this.retry.canRetry(send.attempts)) {
				retrying = true;
				send.lastFailure = failure;
				lane.recovering = true;
				lane.firstFailedSequence = Math.min(lane.firstFailedSequence, send.sequence);
				lane.hold(send);
				lane.holdReady();
			}
			afterInFlightChange(lane, abandoned);
		}
		if (failure == null) {
			this.outcomes.succeeded(send, result, orderBroken);
		}
		else if (retrying) {
			this.outcomes.retrying(send, KafkaErrors.unwrap(failure), this.retry.delayAfter(send.attempts));
		}
		else {
			this.outcomes.failed(send, failure);
		}
		fail(abandoned);
	}

	/**
	 * Called with the lane's monitor held whenever its in-flight or draining state changed: a recovering lane with
	 * nothing in flight gets its next retry round scheduled (or ends its recovery), and an idle lane is retired.
	 * When no round can be scheduled any more (closing), the waiting records go to {@code abandoned}, to be failed
	 * once the monitor is released.
	 */
	private void afterInFlightChange(KeyLane lane, List<PendingSend> abandoned) {
		if (lane.recovering && lane.inFlight == 0 && !lane.draining && !lane.roundScheduled) {
			if (!lane.hasWaiting()) {
				lane.recovering = false;
				lane.firstFailedSequence = Long.MAX_VALUE;
			}
			else {
				int failedAttempts = lane.maxFailedAttempts();
				long delay = (failedAttempts > 0) ? this.retry.delayAfter(failedAttempts).toMillis() : 0;
				try {
					this.scheduler.schedule(() -> wake(lane), delay, TimeUnit.MILLISECONDS);
					lane.roundScheduled = true;
				}
				catch (RejectedExecutionException ex) {
					abandoned.addAll(lane.takeWaitingInOrder());
					lane.recovering = false;
				}
			}
		}
		if (lane.isIdle() && !lane.retired) {
			lane.retired = true;
			Map<String, KeyLane> byKey = (lane.key != null) ? this.lanes.get(lane.topic) : null;
			if (byKey != null) {
				byKey.remove(lane.key, lane);
			}
		}
	}

	private void wake(KeyLane lane) {
		try {
			this.resender.execute(() -> runRound(lane));
		}
		catch (RejectedExecutionException ex) {
			runRound(lane); // closing: the caller's thread runs the last round
		}
	}

	/**
	 * Send a lane's waiting records again, in order. While another attempt probes the lane's topic, the lane
	 * waits for the probe's result instead.
	 */
	private void runRound(KeyLane lane) {
		synchronized (lane) {
			if (!lane.roundScheduled) {
				return;
			}
		}
		Verdict verdict = this.topics.claim(lane.topic, lane);
		if (verdict == Verdict.WAIT) {
			return; // woken by the probe's result
		}
		synchronized (lane) {
			lane.roundScheduled = false;
			for (PendingSend send : lane.takeWaitingInOrder()) {
				send.inRetryRound = true;
				lane.ready.add(send);
			}
			lane.draining = true;
		}
		drain(lane, verdict, null);
	}

	/**
	 * The probe the lane waited for found the topic still out: its waiting records fail one attempt, as they would
	 * have failed the same way, and the lane waits for its next round.
	 */
	private void probeFailed(KeyLane lane, @Nullable Throwable cause) {
		List<PendingSend> waiting;
		synchronized (lane) {
			lane.roundScheduled = false;
			waiting = lane.takeWaitingInOrder();
		}
		failAttempt(lane, waiting, (cause != null) ? cause : this.topics.cause(lane.topic));
	}

	/**
	 * Count one failed attempt, without calling the client, for records that would have failed the same way as the
	 * attempt that just failed: those with attempts left wait for the lane's next round, the others fail for good.
	 */
	private void failAttempt(KeyLane lane, List<PendingSend> sends, Throwable cause) {
		List<PendingSend> retrying = new ArrayList<>();
		List<PendingSend> finished = new ArrayList<>();
		synchronized (lane) {
			for (PendingSend send : sends) {
				send.attempts++;
				send.lastFailure = cause;
				if (this.closed || !this.retry.canRetry(send.attempts)) {
					finished.add(send);
				}
				else {
					lane.recovering = true;
					lane.firstFailedSequence = Math.min(lane.firstFailedSequence, send.sequence);
					lane.hold(send);
					retrying.add(send);
				}
			}
			afterInFlightChange(lane, finished);
		}
		retrying.forEach((send) -> this.outcomes.retrying(send, cause, this.retry.delayAfter(send.attempts)));
		fail(finished);
	}

	private void fail(List<PendingSend> sends) {
		sends.forEach((send) -> this.outcomes.failed(send, closedCause(send)));
	}

	private static Throwable closedCause(PendingSend send) {
		return (send.lastFailure != null) ? send.lastFailure : new IllegalStateException("ReliableKafkaTemplate closed");
	}

	/** A one-line summary of every live lane, for diagnostics. */
	String describeLanes() {
		StringBuilder out = new StringBuilder();
		for (KeyLane lane : liveLanes()) {
			synchronized (lane) {
				out.append(lane.key).append(": inFlight=").append(lane.inFlight).append(" ready=").append(lane.ready.size())
					.append(" waiting=").append(lane.hasWaiting()).append(" recovering=").append(lane.recovering)
					.append(" draining=").append(lane.draining).append(" roundScheduled=").append(lane.roundScheduled)
					.append('\n');
			}
		}
		return out.append(this.topics).toString();
	}

}
