package io.github.reliablekafka.autoconfigure.delay;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.consumer.BytesConsumerFactory;
import io.github.reliablekafka.delay.DelayForwarder;
import io.github.reliablekafka.delay.DelayTiers;
import io.github.reliablekafka.delay.DelayedRedelivery;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

/**
 * Auto-configuration of delayed delivery through tier topics: the tiers (which
 * {@code ReliableKafkaTemplate.sendDelayed} uses when there is no outbox), their topics (created if missing), the
 * forwarder, and the redelivery behind {@code RetryLaterException}.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class,
		beforeName = { "io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration",
				"io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration" })
@ConditionalOnClass({ KafkaTemplate.class, KafkaAutoConfiguration.class })
@ConditionalOnBean(ProducerFactory.class)
@ConditionalOnProperty(prefix = "reliable.kafka.delay", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(ReliableKafkaDelayProperties.class)
public final class ReliableKafkaDelayAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	DelayTiers reliableKafkaDelayTiers(ReliableKafkaDelayProperties properties) {
		try {
			return new DelayTiers(properties.getTiers(), properties.getTopicPrefix());
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(ex.getMessage(), ex);
		}
	}

	@Bean
	KafkaAdmin.NewTopics reliableKafkaDelayTopics(DelayTiers tiers, ReliableKafkaDelayProperties properties) {
		if (properties.getPartitions() < 1) {
			throw new IllegalStateException("reliable.kafka.delay.partitions must be at least 1, not "
					+ properties.getPartitions());
		}
		List<String> names = new ArrayList<>(tiers.topics());
		names.add(deadLetterTopic(properties));
		List<NewTopic> topics = new ArrayList<>();
		for (String name : names) {
			TopicBuilder builder = TopicBuilder.name(name).partitions(properties.getPartitions());
			if (properties.getReplicationFactor() > 0) {
				builder.replicas(properties.getReplicationFactor());
			}
			topics.add(builder.build());
		}
		return new KafkaAdmin.NewTopics(topics.toArray(NewTopic[]::new));
	}

	@Bean
	DelaySender reliableKafkaDelaySender(ProducerFactory<?, ?> producerFactory) {
		return new DelaySender(producerFactory);
	}

	@Bean
	@ConditionalOnMissingBean
	DelayedRedelivery reliableKafkaDelayedRedelivery(DelayTiers tiers, DelaySender sender,
			ReliableKafkaDelayProperties properties) {
		try {
			return new DelayedRedelivery(tiers, sender.template(), properties.getMaxAttempts(),
					properties.getForwarder().getSendTimeout());
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(ex.getMessage(), ex);
		}
	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(ConsumerFactory.class)
	@ConditionalOnProperty(prefix = "reliable.kafka.delay.forwarder", name = "enabled", matchIfMissing = true)
	DelayForwarder reliableKafkaDelayForwarder(DelayTiers tiers, DelaySender sender, ConsumerFactory<?, ?> consumerFactory,
			ReliableKafkaDelayProperties properties) {
		// a short fetch wait: a partition resumed when its head is due is fetched at once, not after another
		// partition's long poll
		Map<String, Object> overrides = Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100,
				ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
		return new DelayForwarder(tiers, BytesConsumerFactory.from(consumerFactory, overrides), properties.getGroupId(),
				sender.template(), properties.getForwarder().getSendTimeout(), deadLetterTopic(properties));
	}

	private static String deadLetterTopic(ReliableKafkaDelayProperties properties) {
		return properties.getTopicPrefix() + "dlt";
	}

}
