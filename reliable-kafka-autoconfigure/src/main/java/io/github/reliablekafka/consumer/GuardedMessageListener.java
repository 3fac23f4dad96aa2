package io.github.reliablekafka.consumer;

import java.util.function.BooleanSupplier;

import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyGuard.Outcome;
import io.github.reliablekafka.idempotency.IdempotencyKeyResolver;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.DelegatingMessageListener;
import org.springframework.kafka.support.Acknowledgment;

/**
 * Runs a reliable listener inside its idempotency guard: a record whose key is already done for the listener's
 * consumer group is acknowledged without running the listener. Where nothing of the application's runs between records
 * and something flushes the thread's deferred writes before the records are committed ({@link PollEnd} on the
 * consumer thread, the lane worker's end of a batch on lanes), the guard may leave a record's last write for the
 * next record's call ({@link IdempotencyGuard#executeDeferring}); a record that does not reach the guard (replayed
 * without it, or whose key cannot be computed) has those writes flushed first.
 */
final class GuardedMessageListener implements AcknowledgingConsumerAwareMessageListener<String, byte[]>,
		DelegatingMessageListener<AcknowledgingConsumerAwareMessageListener<String, byte[]>> {

	private static final Logger logger = LoggerFactory.getLogger(ReliableListener.class);

	private final AcknowledgingConsumerAwareMessageListener<String, byte[]> delegate;

	private final IdempotencyGuard guard;

	private final IdempotencyKeyResolver keys;

	private final String group;

	private final String listener;

	private final GuardBypass bypass;

	/** Which records need no claim; {@code null} when every record is claimed (records run on lanes or shared). */
	private final @Nullable PartitionFlow flow;

	/**
	 * Whether the guard may leave a record's last write for later on the current thread; {@code null} when never.
	 */
	private final @Nullable BooleanSupplier deferral;

	GuardedMessageListener(AcknowledgingConsumerAwareMessageListener<String, byte[]> delegate, IdempotencyGuard guard,
			IdempotencyKeyResolver keys, String group, String listener, GuardBypass bypass,
			@Nullable PartitionFlow flow, @Nullable BooleanSupplier deferral) {
		this.deferral = deferral;
		this.bypass = bypass;
		this.flow = flow;
		this.delegate = delegate;
		this.guard = guard;
		this.keys = keys;
		this.group = group;
		this.listener = listener;
	}

	@Override
	public void onMessage(ConsumerRecord<String, byte[]> record, @Nullable Acknowledgment acknowledgment,
			@Nullable Consumer<?, ?> consumer) {
		if (this.bypass.covers(this.group, record)) {
			flushDeferred();
			logger.debug("Listener '{}' replays record {} without its idempotency guard, as the operator asked",
					this.listener, PayloadMessageConverter.position(record));
			if (this.flow != null) {
				this.flow.decided(record, false);
			}
			this.delegate.onMessage(record, acknowledgment, consumer);
			return;
		}
		String key;
		try {
			key = this.keys.keyOf(record);
		}
		catch (RuntimeException ex) {
			flushDeferred();
			throw new NonRetryableException("Cannot compute the idempotency key of record "
					+ PayloadMessageConverter.position(record) + ": " + ex.getMessage(), ex);
		}
		Outcome outcome = null;
		try {
			IdempotencyGuard.Work work = () -> this.delegate.onMessage(record, acknowledgment, consumer);
			boolean inFlow = (this.flow != null) && this.flow.inFlow(record);
			if (deferring()) {
				outcome = this.guard.executeDeferring(this.group, key, inFlow, work);
			}
			else {
				outcome = inFlow ? this.guard.executeInFlow(this.group, key, work) : this.guard.execute(this.group, key, work);
			}
		}
		catch (RuntimeException | Error ex) {
			throw ex;
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
		finally {
			if (this.flow != null) { // no outcome: the record failed, and what comes next is claimed again
				this.flow.decided(record, outcome == Outcome.PROCESSED);
			}
		}
		if (outcome == Outcome.DUPLICATE) {
			logger.debug("Listener '{}' skipped record {} (rk-id={}): idempotency key {} is already done for group {}",
					this.listener, PayloadMessageConverter.position(record), RkHeaders.id(record.headers()), key,
					this.group);
		}
	}

	private boolean deferring() {
		return this.deferral != null && this.deferral.getAsBoolean();
	}

	private void flushDeferred() {
		if (deferring()) {
			this.guard.flushDeferred();
		}
	}

	@Override
	public AcknowledgingConsumerAwareMessageListener<String, byte[]> getDelegate() {
		return this.delegate;
	}

}
