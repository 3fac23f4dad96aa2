package io.github.reliablekafka.producer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Counts send outcomes.
 *
 * <ul>
 * <li>{@code reliable.kafka.producer.sends} (counter), tags {@code result=success|retry|failure|in-doubt} and
 * {@code topic}: one {@code success}, {@code failure} (not written) or {@code in-doubt} (may be on the topic) per
 * message, one {@code retry} per failed attempt that is tried again.</li>
 * <li>{@code reliable.kafka.producer.order.breaks} (counter), tag {@code topic}: records acknowledged ahead of an
 * earlier record of their key.</li>
 * </ul>
 */
public final class MicrometerSendOutcomeListener implements SendOutcomeListener {

	static final String SENDS = "reliable.kafka.producer.sends";

	static final String ORDER_BREAKS = "reliable.kafka.producer.order.breaks";

	private final MeterRegistry registry;

	/** The success counters, by topic: one look-up per send, no key built. */
	private final Map<String, Counter> successes = new ConcurrentHashMap<>();

	/** The other counters, by result and topic (failures are rare). */
	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	/**
	 * Create a listener.
	 * @param registry where the counters are registered
	 */
	public MicrometerSendOutcomeListener(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
		Counter success = this.successes.get(record.topic());
		if (success == null) {
			success = this.successes.computeIfAbsent(record.topic(), (topic) -> sends("success", topic));
		}
		success.increment();
	}

	@Override
	public void onAttemptFailure(ProducerRecord<String, byte[]> record, int attempt, Throwable cause,
			Duration retryIn) {
		sends("retry", record.topic()).increment();
	}

	@Override
	public void onFailure(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
		sends("failure", record.topic()).increment();
	}

	@Override
	public void onInDoubt(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
		sends("in-doubt", record.topic()).increment();
	}

	@Override
	public void onOrderBreak(ProducerRecord<String, byte[]> record, RecordMetadata metadata) {
		this.counters.computeIfAbsent("order-break\u0000" + record.topic(), (id) -> Counter.builder(ORDER_BREAKS)
			.description("Records acknowledged ahead of an earlier record of their key")
			.tag("topic", record.topic())
			.register(this.registry)).increment();
	}

	private Counter sends(String result, String topic) {
		return this.counters.computeIfAbsent(result + "\u0000" + topic, (id) -> Counter.builder(SENDS)
			.description("Outcomes of ReliableKafkaTemplate sends")
			.tag("result", result)
			.tag("topic", topic)
			.register(this.registry));
	}

}
