package io.github.reliablekafka.consumer;

import java.util.function.BooleanSupplier;

import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.support.RkHeaders;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.kafka.support.micrometer.KafkaListenerObservation;
import org.springframework.kafka.support.micrometer.KafkaRecordReceiverContext;

/**
 * Decides what one delivery of a share-group record ends with. The broker's delivery count is the attempt number, so
 * it survives crashes: a success is {@code ACCEPT}; a retryable failure waits its back-off and is {@code RELEASE}d for
 * another delivery; a final failure (not retryable, poison, attempts used up) is published to the dead-letter topic
 * and then {@code ACCEPT}ed, or {@code RELEASE}d when the publish fails, never both lost and acknowledged.
 *
 * <p>
 * The broker archives a record after {@code group.share.delivery.count.limit} deliveries. The last one is kept for
 * the dead-letter topic: a record delivered for the last time goes there without running the listener again, so a
 * record that kills its consumer on every delivery ends in the dead-letter topic, not archived. On that delivery a
 * failed publish is tried again in place for as long as the listener runs, since a release would archive it (with the
 * back-off's growing waits, logged on the first and every tenth failure); that consumer takes no other record
 * meanwhile.
 * While the idempotency guard cannot decide, the record waits in place too (its lock is renewed meanwhile).
 */
final class ShareRecordHandler {

	private static final Logger logger = LoggerFactory.getLogger(ReliableListener.class);

	private final String listener;

	private final AcknowledgingConsumerAwareMessageListener<String, byte[]> chain;

	private final @Nullable RecordInterceptor<String, byte[]> interceptor;

	private final RetryDecision decision;

	private final DeadLetterPublishingRecoverer recoverer;

	private final ReliableErrorHandlers.Outcomes outcomes;

	private final @Nullable ObservationRegistry observations;

	ShareRecordHandler(String listener, AcknowledgingConsumerAwareMessageListener<String, byte[]> chain,
			@Nullable RecordInterceptor<String, byte[]> interceptor, RetryDecision decision,
			DeadLetterPublishingRecoverer recoverer, ReliableErrorHandlers.Outcomes outcomes,
			@Nullable ObservationRegistry observations) {
		this.observations = observations;
		this.listener = listener;
		this.chain = chain;
		this.interceptor = interceptor;
		this.decision = decision;
		this.recoverer = recoverer;
		this.outcomes = outcomes;
	}

	/**
	 * Handle one delivery.
	 * @param original the record as delivered
	 * @param deliveryLimit the broker's delivery-count limit
	 * @param running whether the listener still runs; waits end early when it stops, with a release
	 * @return how to acknowledge the delivery
	 * @throws InterruptedException when the thread is interrupted while waiting
	 */
	AcknowledgeType handle(ConsumerRecord<String, byte[]> original, int deliveryLimit, BooleanSupplier running)
			throws InterruptedException {
		if (this.observations == null) {
			return handleDelivery(original, deliveryLimit, running);
		}
		// as spring-kafka's containers do with spring.kafka.listener.observation-enabled: the listener runs inside a
		// receiver observation that continues the record's trace, and the dead letter is sent inside it
		Observation observation = KafkaListenerObservation.LISTENER_OBSERVATION.observation(null,
				KafkaListenerObservation.DefaultKafkaListenerObservationConvention.INSTANCE,
				() -> new KafkaRecordReceiverContext(original, this.listener, () -> null), this.observations);
		observation.start();
		try (Observation.Scope scope = observation.openScope()) {
			return handleDelivery(original, deliveryLimit, running);
		}
		catch (RuntimeException | Error ex) {
			observation.error(ex);
			throw ex;
		}
		finally {
			observation.stop();
		}
	}

	@SuppressWarnings("NullAway")
	private AcknowledgeType handleDelivery(ConsumerRecord<String, byte[]> original, int deliveryLimit,
			BooleanSupplier running) throws InterruptedException {
		int delivery = deliveryOf(original);
		ConsumerRecord<String, byte[]> record = original;
		if (this.interceptor != null) {
			record = this.interceptor.intercept(original, null);
			if (record == null) {
				return AcknowledgeType.ACCEPT; // skipped by an interceptor: finished
			}
		}
		if (delivery >= deliveryLimit) {
			return deadLetter(record, new DeliveryLimitReachedException("Delivery " + delivery + " of record "
					+ PayloadMessageConverter.position(record) + " is the last the share group allows "
					+ "(group.share.delivery.count.limit=" + deliveryLimit + "); its earlier deliveries ended without "
					+ "an acknowledgement (a consumer crashed or stopped, or a lock ran out), so it goes to the "
					+ "dead-letter topic without running the listener again"), true, running);
		}
		int guardWaits = 0;
		while (true) {
			Exception failure;
			try {
				this.chain.onMessage(record, null, null);
				if (this.interceptor != null) {
					this.interceptor.success(record, null);
				}
				return AcknowledgeType.ACCEPT;
			}
			catch (Exception ex) {
				failure = ex;
				if (this.interceptor != null) {
					this.interceptor.failure(record, ex, null);
				}
			}
			if (this.decision.waitsForGuard(failure)) {
				this.outcomes.failedDelivery(record, failure, ++guardWaits);
				if (!DispatchedRecordHandler.sleep(this.decision.guardWaitMillis(), running)) {
					return AcknowledgeType.RELEASE;
				}
				continue;
			}
			this.outcomes.failedDelivery(record, failure, delivery);
			if (this.decision.retries(failure, delivery) && delivery + 1 < deliveryLimit) {
				DispatchedRecordHandler.sleep(this.decision.delayAfter(delivery), running);
				return AcknowledgeType.RELEASE;
			}
			return deadLetter(record, failure, delivery + 1 >= deliveryLimit, running);
		}
	}

	/**
	 * Publish a dead letter, then accept; release when the publish fails, unless this is the last delivery: then try
	 * again in place while the listener runs.
	 */
	private AcknowledgeType deadLetter(ConsumerRecord<String, byte[]> record, Exception reason, boolean last,
			BooleanSupplier running) throws InterruptedException {
		int failedPublishes = 0;
		while (true) {
			try {
				this.recoverer.accept(record, null, reason);
				this.outcomes.recovered(record, reason);
				return AcknowledgeType.ACCEPT;
			}
			catch (Exception deadLetterFailure) {
				failedPublishes++;
				if (failedPublishes == 1 || failedPublishes % 10 == 0) {
					this.outcomes.recoveryFailed(record, reason, deadLetterFailure);
				}
				// in place (the last delivery), each try waits longer, up to the back-off's longest wait
				boolean stillRunning = DispatchedRecordHandler.sleep(last ? this.decision.delayAfter(failedPublishes)
						: this.decision.delayBeforeStartingOver(), running);
				if (!last) {
					return AcknowledgeType.RELEASE;
				}
				if (!stillRunning) {
					logger.error("Listener '{}' stops while record {} (rk-id={}) is on its last delivery and its dead "
							+ "letter could not be published: releasing it, the broker archives it without a copy in "
							+ "the dead-letter topic", this.listener, PayloadMessageConverter.position(record),
							LogText.of(RkHeaders.id(record.headers())));
					return AcknowledgeType.RELEASE;
				}
			}
		}
	}

	/** The delivery count of a record, 1 when the broker gave none. */
	static int deliveryOf(ConsumerRecord<?, ?> record) {
		return record.deliveryCount().map(Short::intValue).orElse(1);
	}

}
