package io.github.reliablekafka.autoconfigure.doctor;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerProperties;
import io.github.reliablekafka.autoconfigure.delay.ReliableKafkaDelayAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.delay.DelayTopics;
import io.github.reliablekafka.consumer.ReliableListeners;
import io.github.reliablekafka.doctor.StartupDoctor;
import io.github.reliablekafka.internal.SharedAdmin;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.support.TopicPartitionOffset;

/**
 * Auto-configuration of the durability doctor: the no-loss checklist checked at startup against the cluster and the
 * effective client settings.
 */
@AutoConfiguration(after = { KafkaAutoConfiguration.class, ReliableKafkaDelayAutoConfiguration.class,
		ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class })
@ConditionalOnClass(KafkaAdmin.class)
@ConditionalOnBean(KafkaAdmin.class)
@EnableConfigurationProperties(ReliableKafkaDoctorProperties.class)
public final class ReliableKafkaDoctorAutoConfiguration {

	@Bean
	StartupDoctor reliableKafkaDoctor(SharedAdmin admin, ObjectProvider<ProducerFactory<?, ?>> producerFactory,
			ObjectProvider<ConsumerFactory<?, ?>> consumerFactory, ObjectProvider<KafkaListenerEndpointRegistry> registry,
			ObjectProvider<DelayTopics> delayTopics, ObjectProvider<ReliableKafkaConsumerProperties> consumerProperties,
			ObjectProvider<ReliableListeners> listeners, ReliableKafkaDoctorProperties properties) {
		ProducerFactory<?, ?> producers = producerFactory.getIfUnique();
		ConsumerFactory<?, ?> consumers = consumerFactory.getIfUnique();
		ReliableKafkaConsumerProperties consumerSettings = consumerProperties.getIfAvailable();
		Duration retryBudget = (consumerSettings != null) ? retryBudget(consumerSettings.getRetry()) : null;
		return new StartupDoctor(admin, (producers != null) ? producers.getConfigurationProperties() : null,
				(consumers != null) ? consumers.getConfigurationProperties() : null,
				() -> topics(properties, registry.getIfAvailable(), delayTopics.getIfAvailable()), retryBudget,
				() -> {
					ReliableListeners reliable = listeners.getIfAvailable();
					return (reliable != null) ? reliable.shareGroups() : List.of();
				}, (consumerSettings != null) ? consumerSettings.getRetry().getMaxAttempts() : 1,
				properties.getTimeout(), properties.getMode());
	}

	private static Duration retryBudget(ReliableKafkaConsumerProperties.Retry retry) {
		try {
			return retry.toBackoff().totalDelay();
		}
		catch (IllegalArgumentException ex) {
			return Duration.ZERO; // the consumer's own auto-configuration reports the bad setting
		}
	}

	/** The configured topics, the listeners' topics and the delay tiers' topics once they exist. */
	private static Collection<String> topics(ReliableKafkaDoctorProperties properties,
			@Nullable KafkaListenerEndpointRegistry registry, @Nullable DelayTopics delayTopics) {
		Set<String> topics = new TreeSet<>(properties.getTopics());
		if (registry != null) {
			for (MessageListenerContainer container : registry.getListenerContainers()) {
				String[] names = container.getContainerProperties().getTopics();
				if (names != null) {
					topics.addAll(Arrays.asList(names));
				}
				TopicPartitionOffset[] partitions = container.getContainerProperties().getTopicPartitions();
				if (partitions != null) {
					Arrays.stream(partitions).map(TopicPartitionOffset::getTopicPartition).map(TopicPartition::topic)
						.forEach(topics::add);
				}
			}
		}
		if (delayTopics != null && delayTopics.exist()) {
			topics.addAll(delayTopics.topics());
		}
		return topics;
	}

}
