package io.github.reliablekafka.consumer;

import java.nio.charset.StandardCharsets;

import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory.ReliableListenerSettings;
import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.KafkaException;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.RetryListener;

/**
 * Builds the error handler of one reliable listener: spring-kafka's {@link DefaultErrorHandler} with exponential
 * back-off, then a {@link DeadLetterPublishingRecoverer} to {@code <topic><suffix>} (partition chosen by key; the
 * original headers plus the exception's class, message and stack trace). Poison is not retried. If the dead letter
 * cannot be published, the record is not committed and its retries start over: a record is never both undelivered
 * and committed.
 */
final class ReliableErrorHandlers {

	private static final Logger logger = LoggerFactory.getLogger(ReliableListener.class);

	private ReliableErrorHandlers() {
	}

	static DefaultErrorHandler create(String listener, ReliableListenerSettings settings,
			KafkaOperations<String, byte[]> deadLetterTemplate, ListenerOutcomes outcomes, @Nullable String group,
			DeadLetterRecords records) {
		DeadLetterPublishingRecoverer recoverer = recoverer(settings, deadLetterTemplate, group, records);
		RetryDecision decision = new RetryDecision(settings);
		DefaultErrorHandler handler = new DefaultErrorHandler(recoverer, decision.backOff());
		handler.addNotRetryableExceptions(decision.notRetryable().toArray(Class[]::new));
		handler.setLogLevel(KafkaException.Level.DEBUG); // the retry listener logs each outcome once
		handler.setBackOffFunction(decision::backOffFor);
		handler.setRetryListeners(new Outcomes(listener, settings, decision, outcomes));
		return handler;
	}

	/**
	 * The recoverer of one listener: publishes its dead letters and, when it has a group, records them.
	 */
	static DeadLetterPublishingRecoverer recoverer(ReliableListenerSettings settings,
			KafkaOperations<String, byte[]> deadLetterTemplate, @Nullable String group, DeadLetterRecords records) {
		return new BoundedDeadLetterRecoverer(deadLetterTemplate, settings.deadLetterSuffix(),
				new BoundedDeadLetterRecoverer.DeadLetterLimits(settings.maxExceptionMessageBytes(),
						settings.maxStackTraceBytes(), settings.maxDeadLetterBytes()), group, records);
	}

	/** Logs and counts what happens to each failing record. */
	static final class Outcomes implements RetryListener {

		private final String listener;

		private final ReliableListenerSettings settings;

		private final RetryDecision decision;

		private final ListenerOutcomes outcomes;

		Outcomes(String listener, ReliableListenerSettings settings, RetryDecision decision,
				ListenerOutcomes outcomes) {
			this.listener = listener;
			this.settings = settings;
			this.decision = decision;
			this.outcomes = outcomes;
		}

		@Override
		public void failedDelivery(ConsumerRecord<?, ?> record, Exception ex, int deliveryAttempt) {
			if (this.decision.waitsForGuard(ex)) {
				if (deliveryAttempt == 1 || deliveryAttempt % 30 == 0) {
					logger.warn("Listener '{}' is holding record {} (rk-id={}): {}", this.listener,
							PayloadMessageConverter.position(record), LogText.of(RkHeaders.id(record.headers())),
							rootCause(ex).getMessage());
				}
				return;
			}
			if (isRetryable(ex) && deliveryAttempt < this.settings.retry().maxAttempts()) {
				this.outcomes.record(this.listener, "retried");
				logger.warn("Listener '{}' failed on record {} (rk-id={} key={}), attempt {} of {}; retrying in {} ms: {}",
						this.listener, PayloadMessageConverter.position(record),
						LogText.of(RkHeaders.id(record.headers())), LogText.of(record.key()), deliveryAttempt,
						this.settings.retry().maxAttempts(), this.settings.retry().delayAfter(deliveryAttempt).toMillis(),
						KafkaErrors.describe(rootCause(ex)));
			}
		}

		@Override
		public void recovered(ConsumerRecord<?, ?> record, Exception ex) {
			this.outcomes.record(this.listener, "dead-lettered");
			logger.error("Listener '{}' sent record {} (rk-id={} key={}) to dead-letter topic {}{}, {}: {}{}", this.listener,
					PayloadMessageConverter.position(record), LogText.of(RkHeaders.id(record.headers())),
					LogText.of(record.key()), record.topic(), this.settings.deadLetterSuffix(),
					isRetryable(ex) ? "after " + this.settings.retry().maxAttempts() + " attempt(s)" : "without retry (poison)",
					KafkaErrors.describe(rootCause(ex)), payload(record));
		}

		@Override
		public void recoveryFailed(ConsumerRecord<?, ?> record, Exception original, Exception failure) {
			logger.error("Listener '{}' could NOT send record {} (rk-id={}) to dead-letter topic {}{}: {}. The record is "
					+ "not committed and will be retried.", this.listener, PayloadMessageConverter.position(record),
					LogText.of(RkHeaders.id(record.headers())), record.topic(), this.settings.deadLetterSuffix(),
					KafkaErrors.describe(rootCause(failure)));
		}

		/** The start of the record's value for the log line, when the application asked for it. */
		private String payload(ConsumerRecord<?, ?> record) {
			if (!this.settings.logPayload()) {
				return "";
			}
			Object value = record.value();
			String text = (value instanceof byte[] bytes) ? new String(bytes, 0, Math.min(bytes.length, 800),
					StandardCharsets.UTF_8) : String.valueOf(value);
			return "; value starts " + LogText.of(text);
		}

		boolean isRetryable(Throwable ex) {
			return this.decision.isRetryable(ex);
		}

		private static Throwable rootCause(Throwable ex) {
			Throwable cause = ex;
			while (cause.getCause() != null && cause.getCause() != cause) {
				cause = cause.getCause();
			}
			return cause;
		}

	}

}
