package io.github.reliablekafka.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultShareConsumerFactory;

/**
 * Derives the share-consumer factory of reliable share-group listeners from the application's consumer factory: the
 * same settings (bootstrap servers, security, client settings), {@code String} keys and {@code byte[]} values,
 * without the settings share consumers refuse (the offset reset, isolation level, session and heartbeat settings of a
 * share group are the group's, on the broker), with explicit acknowledgement and an exact number of records
 * acquired per poll.
 */
public final class BytesShareConsumerFactory {

	/** The consumer settings a share consumer refuses (Kafka 4.2). */
	static final List<String> UNSUPPORTED = List.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
			ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
			ConsumerConfig.ISOLATION_LEVEL_CONFIG, ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
			ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
			ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, ConsumerConfig.GROUP_PROTOCOL_CONFIG,
			ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG);

	private BytesShareConsumerFactory() {
	}

	/**
	 * Derive a factory.
	 * @param source the application's consumer factory
	 * @param maxPollRecords the records acquired per poll, exactly ({@code share.acquire.mode=record_limit})
	 * @return the share-consumer factory
	 */
	public static DefaultShareConsumerFactory<String, byte[]> from(ConsumerFactory<?, ?> source, int maxPollRecords) {
		if (maxPollRecords < 1) {
			throw new ReliableKafkaConfigurationException("reliable.kafka.consumer.share.max-poll-records is "
					+ maxPollRecords + ".", "Set it to 1 or more.");
		}
		Map<String, Object> config = new HashMap<>(source.getConfigurationProperties());
		withoutUnsupported(config);
		KafkaClientDefaults.consumer(config);
		config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
		config.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
		config.put(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG, "record_limit");
		config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
		return new DefaultShareConsumerFactory<>(config, new StringDeserializer(), new ByteArrayDeserializer(), false);
	}

	/**
	 * Remove the settings a share consumer refuses.
	 * @param config consumer settings, changed in place
	 */
	public static void withoutUnsupported(Map<String, Object> config) {
		UNSUPPORTED.forEach(config::remove);
	}

	/**
	 * Return where a new share group starts, from the application's consumer settings: its {@code auto.offset.reset}
	 * when that is {@code latest}, else {@code earliest}.
	 * @param source the application's consumer factory
	 * @return {@code earliest} or {@code latest}
	 */
	public static String autoOffsetReset(ConsumerFactory<?, ?> source) {
		Object reset = source.getConfigurationProperties().get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG);
		return (reset != null && "latest".equalsIgnoreCase(reset.toString().trim())) ? "latest" : "earliest";
	}

}
