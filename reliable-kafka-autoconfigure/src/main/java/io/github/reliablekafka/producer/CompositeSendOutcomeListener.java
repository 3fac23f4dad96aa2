package io.github.reliablekafka.producer;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls each listener in turn; a listener that throws is logged and skipped.
 */
final class CompositeSendOutcomeListener implements SendOutcomeListener {

	private static final Logger logger = LoggerFactory.getLogger(CompositeSendOutcomeListener.class);

	private final List<SendOutcomeListener> listeners;

	CompositeSendOutcomeListener(List<SendOutcomeListener> listeners) {
		this.listeners = List.copyOf(listeners);
	}

	@Override
	public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
		each((listener) -> listener.onSuccess(record, metadata, attempt));
	}

	@Override
	public void onAttemptFailure(ProducerRecord<String, byte[]> record, int attempt, Throwable cause,
			Duration retryIn) {
		each((listener) -> listener.onAttemptFailure(record, attempt, cause, retryIn));
	}

	@Override
	public void onFailure(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
		each((listener) -> listener.onFailure(record, attempts, cause));
	}

	@Override
	public void onInDoubt(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
		each((listener) -> listener.onInDoubt(record, attempts, cause));
	}

	@Override
	public void onOrderBreak(ProducerRecord<String, byte[]> record, RecordMetadata metadata) {
		each((listener) -> listener.onOrderBreak(record, metadata));
	}

	private void each(Consumer<SendOutcomeListener> call) {
		for (SendOutcomeListener listener : this.listeners) {
			try {
				call.accept(listener);
			}
			catch (RuntimeException | LinkageError | AssertionError ex) {
				// an Error too: one listener must not keep the others (or the send's own completion) from running
				logger.warn("SendOutcomeListener {} failed; the send outcome is unchanged", listener, ex);
			}
		}
	}

}
