package io.github.reliablekafka.consumer;

import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.delay.RetryLaterException;
import io.github.reliablekafka.internal.LogText;
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
 * Turns a {@link RetryLaterException} from the listener into a trip through the delay tiers: the record is sent back
 * to its own topic with {@code rk-attempt} one higher, and once Kafka confirmed that, this listener returns normally
 * so the record is committed. After {@code reliable.kafka.delay.max-attempts} trips the record goes to the
 * dead-letter topic. When the tier record cannot be sent, the failure goes to the error handler like any other
 * (retries, then the dead-letter topic): the record is never committed without being somewhere.
 */
final class RetryLaterMessageListener implements AcknowledgingConsumerAwareMessageListener<String, byte[]>,
		DelegatingMessageListener<AcknowledgingConsumerAwareMessageListener<String, byte[]>> {

	private static final Logger logger = LoggerFactory.getLogger(ReliableListener.class);

	private final AcknowledgingConsumerAwareMessageListener<String, byte[]> delegate;

	private final DelayedRedelivery redelivery;

	private final String listener;

	RetryLaterMessageListener(AcknowledgingConsumerAwareMessageListener<String, byte[]> delegate,
			DelayedRedelivery redelivery, String listener) {
		this.delegate = delegate;
		this.redelivery = redelivery;
		this.listener = listener;
	}

	@Override
	public void onMessage(ConsumerRecord<String, byte[]> record, @Nullable Acknowledgment acknowledgment,
			@Nullable Consumer<?, ?> consumer) {
		try {
			this.delegate.onMessage(record, acknowledgment, consumer);
		}
		catch (RuntimeException ex) {
			RetryLaterException later = retryLater(ex);
			if (later == null) {
				throw ex;
			}
			int attempts = DelayedRedelivery.attempts(record);
			if (attempts < 0) {
				throw new NonRetryableException("Listener '" + this.listener + "' asked for record "
						+ PayloadMessageConverter.position(record) + " (rk-id="
						+ LogText.of(RkHeaders.id(record.headers())) + ") to come back later, but its "
						+ RkHeaders.ATTEMPT + " header is not a count of attempts: " + later.getMessage(), later);
			}
			if (attempts >= this.redelivery.maxAttempts()) {
				throw new NonRetryableException("Listener '" + this.listener + "' asked for record "
						+ PayloadMessageConverter.position(record) + " (rk-id=" + LogText.of(RkHeaders.id(record.headers()))
						+ ") to come back later " + attempts + " times already (reliable.kafka.delay.max-attempts="
						+ this.redelivery.maxAttempts() + "): " + later.getMessage(), later);
			}
			try {
				int attempt = this.redelivery.redeliver(record, later.getDelay());
				logger.info("Listener '{}' retries record {} (rk-id={}) in {} (attempt {} of {}): {}", this.listener,
						PayloadMessageConverter.position(record), LogText.of(RkHeaders.id(record.headers())), later.getDelay(),
						attempt, this.redelivery.maxAttempts(), later.getMessage());
			}
			catch (InterruptedException interrupted) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("Interrupted while sending record "
						+ PayloadMessageConverter.position(record) + " to the delay tiers", interrupted);
			}
		}
	}

	private static @Nullable RetryLaterException retryLater(Throwable ex) {
		for (Throwable cause = ex; cause != null; cause = (cause.getCause() != cause) ? cause.getCause() : null) {
			if (cause instanceof RetryLaterException later) {
				return later;
			}
		}
		return null;
	}

	@Override
	public AcknowledgingConsumerAwareMessageListener<String, byte[]> getDelegate() {
		return this.delegate;
	}

}
