package io.github.reliablekafka.internal;

import java.util.HashMap;
import java.util.Map;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.ConsumerPostProcessor;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;

/**
 * Derives the consumer factory the library reads with from the application's: the same settings, listeners and
 * post-processors, but {@code String} keys, {@code byte[]} values, auto-commit off, and unless set
 * {@code auto.offset.reset=earliest} and the {@link KafkaClientDefaults} of a consumer.
 */
public final class BytesConsumerFactory {

	private BytesConsumerFactory() {
	}

	/**
	 * Derive a factory.
	 * @param source the application's consumer factory
	 * @param overrides settings that replace the application's
	 * @return the new factory
	 * @throws IllegalStateException when the application turned auto-commit on
	 */
	@SuppressWarnings({ "unchecked", "rawtypes" })
	public static DefaultKafkaConsumerFactory<String, byte[]> from(ConsumerFactory<?, ?> source,
			Map<String, Object> overrides) {
		Map<String, Object> config = new HashMap<>(source.getConfigurationProperties());
		Object autoCommit = config.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
		if (autoCommit != null && Boolean.parseBoolean(autoCommit.toString().trim())) {
			throw new ReliableKafkaConfigurationException("enable.auto.commit=true is set (spring.kafka.consumer."
					+ "enable-auto-commit or spring.kafka.consumer.properties): reliable listeners commit offsets only "
					+ "after the work is done, which auto-commit defeats; a crash would lose the records in between.",
					"Remove the setting; a plain @KafkaListener that wants auto-commit can set it in its own "
							+ "properties.");
		}
		config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
		config.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
		KafkaClientDefaults.consumer(config);
		config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
		config.putAll(overrides);
		DefaultKafkaConsumerFactory<String, byte[]> factory = new DefaultKafkaConsumerFactory<>(config,
				new StringDeserializer(), new ByteArrayDeserializer());
		if (source instanceof DefaultKafkaConsumerFactory<?, ?> defaults) {
			defaults.getListeners().forEach((listener) -> factory.addListener((ConsumerFactory.Listener) listener));
			defaults.getPostProcessors().forEach((processor) -> factory.addPostProcessor((ConsumerPostProcessor) processor));
		}
		return factory;
	}

}
