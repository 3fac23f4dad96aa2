package io.github.reliablekafka.delay;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.github.reliablekafka.internal.BytesProducerFactory;
import io.github.reliablekafka.internal.TemplateObservation;
import io.github.reliablekafka.support.RecordTracing;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.support.ProducerListener;
import org.springframework.kafka.support.SendResult;

/**
 * The producer that writes to the tier topics and forwards due records: the application's producer settings
 * ({@code acks=all} and idempotence by the library's defaults), not transactional, {@code max.block.ms} at most
 * 5 s. A bean of its own type, so that it never competes with the application's {@code KafkaTemplate}.
 */
final class DelaySender implements DisposableBean {

	private final DefaultKafkaProducerFactory<String, byte[]> factory;

	private final KafkaTemplate<String, byte[]> template;

	private final RecordTracing tracing;

	/** A missing target must not hold the forwarder's one thread for the default 60 s per try. */
	private static final long MAX_BLOCK_MS = 5_000;

	/**
	 * Create the sender.
	 * @param producerFactory the application's producer factory, whose settings it takes
	 * @param observation whether its template is observed
	 * @param tracing carries senders' trace contexts through the tiers
	 */
	DelaySender(ProducerFactory<?, ?> producerFactory, TemplateObservation observation, RecordTracing tracing) {
		this.tracing = tracing;
		Object userMaxBlock = producerFactory.getConfigurationProperties().get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
		long maxBlock = Math.min((userMaxBlock != null) ? Long.parseLong(userMaxBlock.toString().trim()) : 60_000,
				MAX_BLOCK_MS);
		this.factory = BytesProducerFactory.from(producerFactory, "-delay",
				Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock));
		this.template = new KafkaTemplate<>(this.factory);
		this.template.setProducerListener(new ProducerListener<>() {
			// outcomes are handled by the forwarder and the redelivery
		});
		observation.applyTo(this.template);
	}

	/**
	 * Return the template that writes to the tier topics.
	 * @return the template
	 */
	public KafkaTemplate<String, byte[]> template() {
		return this.template;
	}

	/**
	 * Forward a due record to its target, inside the trace context it carries.
	 * @param record the record for the target topic
	 * @return the send's future
	 */
	CompletableFuture<SendResult<String, byte[]>> forward(ProducerRecord<String, byte[]> record) {
		return this.tracing.within(record.headers(), "delay forward", () -> this.template.send(record));
	}

	/**
	 * Write the current trace context into a record bound for a tier.
	 * @param record the tier's record
	 * @return the record
	 */
	ProducerRecord<String, byte[]> traced(ProducerRecord<String, byte[]> record) {
		this.tracing.inject(record.headers());
		return record;
	}

	@Override
	public void destroy() {
		this.factory.destroy();
	}

}
