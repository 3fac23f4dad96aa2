package io.github.reliablekafka.autoconfigure.delay;

import java.util.Map;

import io.github.reliablekafka.producer.BytesProducerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.support.ProducerListener;

/**
 * The producer that writes to the tier topics and forwards due records: the application's producer settings
 * ({@code acks=all} and idempotence by the library's defaults), not transactional. A bean of its own type, so that it
 * never competes with the application's {@code KafkaTemplate}.
 */
public final class DelaySender implements DisposableBean {

	private final DefaultKafkaProducerFactory<String, byte[]> factory;

	private final KafkaTemplate<String, byte[]> template;

	DelaySender(ProducerFactory<?, ?> producerFactory) {
		this.factory = BytesProducerFactory.from(producerFactory, "-delay", Map.of());
		this.template = new KafkaTemplate<>(this.factory);
		this.template.setProducerListener(new ProducerListener<>() {
			// outcomes are handled by the forwarder and the redelivery
		});
	}

	KafkaTemplate<String, byte[]> template() {
		return this.template;
	}

	@Override
	public void destroy() {
		this.factory.destroy();
	}

}
