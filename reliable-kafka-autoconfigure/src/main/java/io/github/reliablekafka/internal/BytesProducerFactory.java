package io.github.reliablekafka.internal;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.core.ProducerPostProcessor;

/**
 * Derives the producer factory the library sends with from the application's: the same settings, listeners (client
 * metrics) and post-processors, but {@code String} keys and {@code byte[]} values whatever serializers the
 * application configured, never transactional, and the {@link KafkaClientDefaults} of a producer unless set.
 */
public final class BytesProducerFactory {

	private BytesProducerFactory() {
	}

	/**
	 * Derive a factory.
	 * @param source the application's producer factory
	 * @param clientIdSuffix appended to a configured {@code client.id}, so that the clients' metrics stay apart
	 * @param overrides settings that replace the application's
	 * @return a new factory; the caller closes it
	 */
	@SuppressWarnings({ "unchecked", "rawtypes" })
	public static DefaultKafkaProducerFactory<String, byte[]> from(ProducerFactory<?, ?> source, String clientIdSuffix,
			Map<String, Object> overrides) {
		Map<String, Object> configs = new HashMap<>(source.getConfigurationProperties());
		configs.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
		configs.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
		configs.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
		KafkaClientDefaults.producer(configs);
		Object clientId = configs.get(ProducerConfig.CLIENT_ID_CONFIG);
		if (clientId != null) {
			configs.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + clientIdSuffix);
		}
		configs.putAll(overrides);
		DefaultKafkaProducerFactory<String, byte[]> factory = new DefaultKafkaProducerFactory<>(configs,
				new StringSerializer(), new ByteArraySerializer());
		if (source instanceof DefaultKafkaProducerFactory<?, ?> defaults) {
			defaults.getListeners().forEach((listener) -> factory.addListener((ProducerFactory.Listener) listener));
			defaults.getPostProcessors().forEach((processor) -> factory.addPostProcessor((ProducerPostProcessor) processor));
			factory.setPhysicalCloseTimeout((int) defaults.getPhysicalCloseTimeout().getSeconds());
		}
		return factory;
	}

	/**
	 * Return the largest record a factory's producers accept.
	 * @param factory the factory
	 * @return its {@code max.request.size}, 1048576 when not set
	 */
	public static int maxRequestSize(ProducerFactory<?, ?> factory) {
		Object value = factory.getConfigurationProperties().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
		return (value != null) ? Integer.parseInt(value.toString().trim()) : 1_048_576;
	}

}
