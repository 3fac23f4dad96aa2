package io.github.reliablekafka.consumer;

import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory.ReliableListenerSettings;
import io.github.reliablekafka.idempotency.CrashLoopException;
import io.github.reliablekafka.idempotency.GuardUnavailableException;
import io.github.reliablekafka.internal.RetryBackoff;
import io.github.reliablekafka.support.PayloadCodecException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.ExponentialBackOffWithMaxRetries;
import org.springframework.kafka.support.converter.ConversionException;
import org.springframework.kafka.support.serializer.DeserializationException;
import org.springframework.messaging.converter.MessageConversionException;
import org.springframework.messaging.handler.invocation.MethodArgumentResolutionException;
import org.springframework.util.backoff.BackOff;
import org.springframework.util.backoff.FixedBackOff;

/**
 * What happens after a reliable listener failed on a record, the same for a listener on the consumer thread (through
 * spring-kafka's error handler) and for one on key-ordered lanes: while the idempotency guard cannot decide (its store
 * is unreachable, the key is claimed elsewhere), wait and try again without limit, never giving up or committing;
 * poison and the non-retryable types go to the dead-letter topic at once; other failures are retried with the
 * listener's back-off until its attempts are used up, then dead-lettered.
 */
final class RetryDecision {

	private final RetryBackoff retry;

	private final List<Class<? extends Exception>> notRetryable;

	@SuppressWarnings("unchecked")
	RetryDecision(ReliableListenerSettings settings) {
		this.retry = settings.retry();
		List<Class<? extends Exception>> types = new ArrayList<>(List.of(NonRetryableException.class,
				CrashLoopException.class, PayloadCodecException.class, ConversionException.class,
				DeserializationException.class, MessageConversionException.class, MethodArgumentResolutionException.class,
				ClassCastException.class));
		for (Class<? extends Throwable> type : settings.nonRetryable()) {
			if (Exception.class.isAssignableFrom(type)) {
				types.add((Class<? extends Exception>) type);
			}
		}
		this.notRetryable = List.copyOf(types);
	}

	/** The exception types that are never retried. */
	List<Class<? extends Exception>> notRetryable() {
		return this.notRetryable;
	}

	/** Whether the failure means the guard cannot decide yet: the record waits, however long. */
	boolean waitsForGuard(Throwable failure) {
		return causedBy(failure, GuardUnavailableException.class);
	}

	/** How long a record waits for the guard between two attempts. */
	long guardWaitMillis() {
		return Math.max(100, this.retry.delay().toMillis());
	}

	/** Whether the failure may be retried (it is not poison nor of a non-retryable type, at any depth). */
	boolean isRetryable(Throwable failure) {
		for (Class<? extends Exception> type : this.notRetryable) {
			if (causedBy(failure, type)) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Whether a record that failed {@code failed} times with {@code failure} is tried again.
	 * @return whether it is retried (else it is dead-lettered)
	 */
	boolean retries(Throwable failure, int failed) {
		return isRetryable(failure) && this.retry.canRetry(failed);
	}

	/** How long to wait after the {@code failed}-th failure. */
	long delayAfter(int failed) {
		return this.retry.delayAfter(failed).toMillis();
	}

	/** How long to wait before a record whose dead letter could not be published is tried again from the start. */
	long delayBeforeStartingOver() {
		return this.retry.delay().toMillis();
	}

	/** The back-off of spring-kafka's error handler for the failures that are retried with a limit. */
	BackOff backOff() {
		ExponentialBackOffWithMaxRetries backOff = new ExponentialBackOffWithMaxRetries(this.retry.maxAttempts() - 1);
		backOff.setInitialInterval(this.retry.delay().toMillis());
		backOff.setMultiplier(this.retry.multiplier());
		backOff.setMaxInterval(this.retry.maxDelay().toMillis());
		backOff.setJitter(this.retry.jitter().toMillis());
		return backOff;
	}

	/**
	 * The back-off of spring-kafka's error handler for one failure: unlimited while the guard cannot decide, else
	 * {@code null} (the handler's own, {@link #backOff()}).
	 */
	@Nullable BackOff backOffFor(ConsumerRecord<?, ?> record, Exception failure) {
		return waitsForGuard(failure) ? new FixedBackOff(guardWaitMillis(), FixedBackOff.UNLIMITED_ATTEMPTS) : null;
	}

	static boolean causedBy(Throwable ex, Class<? extends Throwable> type) {
		for (Throwable cause = ex; cause != null; cause = (cause.getCause() != cause) ? cause.getCause() : null) {
			if (type.isInstance(cause)) {
				return true;
			}
		}
		return false;
	}

}
