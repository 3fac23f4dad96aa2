package io.github.reliablekafka.consumer;

import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.listener.RecordInterceptor;

/**
 * Skips (and logs, and counts) records with a null or empty value when so configured, and counts the records a
 * listener handled successfully. A skipped record is committed like a processed one.
 */
final class ReliableRecordInterceptor implements RecordInterceptor<String, byte[]> {

	private static final Logger logger = LoggerFactory.getLogger(ReliableListener.class);

	private final String listener;

	private final NullPayload nullPayload;

	private final ListenerOutcomes outcomes;

	ReliableRecordInterceptor(String listener, NullPayload nullPayload, ListenerOutcomes outcomes) {
		this.listener = listener;
		this.nullPayload = nullPayload;
		this.outcomes = outcomes;
	}

	@Override
	public @Nullable ConsumerRecord<String, byte[]> intercept(ConsumerRecord<String, byte[]> record,
			Consumer<String, byte[]> consumer) {
		if (this.nullPayload == NullPayload.SKIP && PayloadMessageConverter.isEmpty(record.value())) {
			logger.warn("Listener '{}' skipped record {} (rk-id={} key={}): null or empty payload "
					+ "(reliable.kafka.consumer.null-payload=skip)", this.listener, PayloadMessageConverter.position(record),
					LogText.of(RkHeaders.id(record.headers())), LogText.of(record.key()));
			this.outcomes.record(this.listener, "skipped");
			return null;
		}
		return record;
	}

	@Override
	public void success(ConsumerRecord<String, byte[]> record, Consumer<String, byte[]> consumer) {
		this.outcomes.record(this.listener, "success");
	}

}
