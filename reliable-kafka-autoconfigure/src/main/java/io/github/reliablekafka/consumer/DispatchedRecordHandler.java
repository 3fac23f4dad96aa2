package io.github.reliablekafka.consumer;

import java.util.function.BooleanSupplier;

import io.github.reliablekafka.dispatch.LaneHandler;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.RecordInterceptor;

/**
 * What the container's error handler and record interceptor do for a record on the consumer thread, done on the
 * record's lane instead: the interceptor (null payloads, outcome counts, the application's interceptor, called with
 * a {@code null} consumer), the listener inside its idempotency guard, retries with back-off on the lane (only the
 * keys of that lane wait), then the dead-letter topic. A record whose dead letter cannot be published is retried from
 * the start, never finished: it is never both undelivered and committed.
 */
final class DispatchedRecordHandler implements LaneHandler {

	/** The observation each record runs in on its lane, when it carries the container's listener observation. */
	static final String LANE_OBSERVATION = "reliable.kafka.lane";

	private static final long SLICE_MILLIS = 100;

	private final AcknowledgingConsumerAwareMessageListener<String, byte[]> listener;

	private final @Nullable RecordInterceptor<String, byte[]> interceptor;

	private final RetryDecision decision;

	private final DeadLetterPublishingRecoverer recoverer;

	private final ReliableErrorHandlers.Outcomes outcomes;

	private final String listenerId;

	private final @Nullable ObservationRegistry observations;

	/** Writes what the listener's idempotency guard left for later on this thread. */
	private final Runnable batchDone;

	DispatchedRecordHandler(AcknowledgingConsumerAwareMessageListener<String, byte[]> listener,
			@Nullable RecordInterceptor<String, byte[]> interceptor, RetryDecision decision,
			DeadLetterPublishingRecoverer recoverer, ReliableErrorHandlers.Outcomes outcomes, String listenerId,
			@Nullable ObservationRegistry observations, Runnable batchDone) {
		this.batchDone = batchDone;
		this.listener = listener;
		this.interceptor = interceptor;
		this.decision = decision;
		this.recoverer = recoverer;
		this.outcomes = outcomes;
		this.listenerId = listenerId;
		this.observations = observations;
	}

	/**
	 * Handle the record inside a lane observation when it carries the container's listener observation (restored on
	 * this thread with the record's context): that one stopped when the consumer thread handed the record over, so
	 * without a span of its own the listener's work would run under a finished span.
	 */
	@Override
	public boolean handle(ConsumerRecord<String, byte[]> original, BooleanSupplier owned) throws InterruptedException {
		Observation container = (this.observations != null) ? this.observations.getCurrentObservation() : null;
		if (container == null || container.isNoop()) {
			return run(original, owned);
		}
		Observation lane = Observation.createNotStarted(LANE_OBSERVATION, this.observations)
			.contextualName(this.listenerId + " lane")
			.lowCardinalityKeyValue("reliable.kafka.listener", this.listenerId)
			.parentObservation(container)
			.start();
		try (Observation.Scope scope = lane.openScope()) {
			return run(original, owned);
		}
		catch (InterruptedException | RuntimeException | Error ex) {
			lane.error(ex);
			throw ex;
		}
		finally {
			lane.stop();
		}
	}

	@Override
	public void batchDone() {
		this.batchDone.run();
	}

	@SuppressWarnings("NullAway")
	private boolean run(ConsumerRecord<String, byte[]> original, BooleanSupplier owned) throws InterruptedException {
		ConsumerRecord<String, byte[]> record = original;
		if (this.interceptor != null) {
			record = this.interceptor.intercept(original, null);
			if (record == null) {
				return true; // skipped by an interceptor: finished
			}
		}
		int failed = 0;
		int guardWaits = 0;
		while (true) {
			Exception failure;
			try {
				this.listener.onMessage(record, null, null);
				if (this.interceptor != null) {
					this.interceptor.success(record, null);
				}
				return true;
			}
			catch (Exception ex) {
				failure = ex;
				if (this.interceptor != null) {
					this.interceptor.failure(record, ex, null);
				}
			}
			if (this.decision.waitsForGuard(failure)) {
				this.outcomes.failedDelivery(record, failure, ++guardWaits);
				if (!sleep(this.decision.guardWaitMillis(), owned)) {
					return false;
				}
				continue;
			}
			failed++;
			this.outcomes.failedDelivery(record, failure, failed);
			if (this.decision.retries(failure, failed)) {
				if (!sleep(this.decision.delayAfter(failed), owned)) {
					return false;
				}
				continue;
			}
			try {
				this.recoverer.accept(record, null, failure);
				this.outcomes.recovered(record, failure);
				return true;
			}
			catch (Exception deadLetterFailure) {
				this.outcomes.recoveryFailed(record, failure, deadLetterFailure);
				failed = 0;
				if (!sleep(this.decision.delayBeforeStartingOver(), owned)) {
					return false;
				}
			}
		}
	}

	/**
	 * Wait, in slices, while the partition is still owned (or, for a share-group record, while its listener runs).
	 * @return whether it still is
	 */
	static boolean sleep(long millis, BooleanSupplier owned) throws InterruptedException {
		long deadline = System.nanoTime() + millis * 1_000_000;
		while (owned.getAsBoolean()) {
			long left = (deadline - System.nanoTime()) / 1_000_000;
			if (left <= 0) {
				return true;
			}
			Thread.sleep(Math.min(left, SLICE_MILLIS));
		}
		return false;
	}

}
