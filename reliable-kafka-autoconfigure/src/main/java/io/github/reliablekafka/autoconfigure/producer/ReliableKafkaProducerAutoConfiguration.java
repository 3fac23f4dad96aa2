package io.github.reliablekafka.autoconfigure.producer;

import java.util.Map;

import io.github.reliablekafka.internal.BytesProducerFactory;
import io.github.reliablekafka.internal.SafeProducerDefaults;
import io.github.reliablekafka.internal.TemplateObservation;
import io.github.reliablekafka.producer.DelayedDelivery;
import io.github.reliablekafka.producer.MicrometerSendOutcomeListener;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.ReliableKafkaTemplateBuilder;
import io.github.reliablekafka.producer.ReliableKafkaTemplateCustomizer;
import io.github.reliablekafka.producer.SendOutcomeListener;
import io.github.reliablekafka.support.PayloadCodec;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.DefaultKafkaProducerFactoryCustomizer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.support.ProducerListener;

/**
 * Auto-configuration of the reliable producer: safe defaults on Spring Boot's producer factory and a
 * {@link ReliableKafkaTemplate}.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass({ KafkaTemplate.class, KafkaAutoConfiguration.class })
@EnableConfigurationProperties(ReliableKafkaProducerProperties.class)
public final class ReliableKafkaProducerAutoConfiguration {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaProducerAutoConfiguration.class);

	@Bean
	DefaultKafkaProducerFactoryCustomizer reliableKafkaSafeProducerDefaults() {
		return (factory) -> {
			factory.updateConfigs(SafeProducerDefaults.missingDefaults(factory.getConfigurationProperties()));
			if (factory.getTransactionIdPrefix() != null) {
				logger.warn("spring.kafka.producer.transaction-id-prefix is set: ReliableKafkaTemplate's sends are not "
						+ "part of Kafka transactions (its producer is idempotent, not transactional, and each send is "
						+ "confirmed on its own), nor are reliable listeners; the application's own KafkaTemplate and "
						+ "plain @KafkaListener methods keep them. To commit a database write and a send together, use "
						+ "the transactional outbox (a DataSource).");
			}
		};
	}

	@Bean
	@ConditionalOnMissingBean
	PayloadCodec reliableKafkaPayloadCodec() {
		return PayloadCodec.fastjson2();
	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(ProducerFactory.class)
	ReliableKafkaTemplate reliableKafkaTemplate(ProducerFactory<?, ?> producerFactory,
			KafkaProperties kafkaProperties, ReliableKafkaProducerProperties properties, PayloadCodec codec,
			ObjectProvider<SendOutcomeListener> listeners, ObjectProvider<ObservationRegistry> observationRegistry,
			ObjectProvider<DelayedDelivery> delayedDelivery, ObjectProvider<ReliableKafkaTemplateCustomizer> customizers) {
		SafeProducerDefaults.unsafeSettings(producerFactory.getConfigurationProperties())
			.forEach((risk) -> logger.warn("Unsafe Kafka producer setting, kept because the application set it: {}", risk));

		DefaultKafkaProducerFactory<String, byte[]> factory = BytesProducerFactory.from(producerFactory, "-reliable", Map.of());
		KafkaTemplate<String, byte[]> kafkaTemplate = new KafkaTemplate<>(factory);
		kafkaTemplate.setProducerListener(new ProducerListener<>() {
			// outcomes are logged once, by the reliable template's own listener
		});
		new TemplateObservation(kafkaProperties.getTemplate().isObservationEnabled(), observationRegistry.getIfUnique())
			.applyTo(kafkaTemplate);
		ReliableKafkaTemplateBuilder builder = ReliableKafkaTemplate.builder(kafkaTemplate)
			.codec(codec)
			.retry(properties.getRetry().toBackoff())
			.sendTimeout(properties.getSendTimeout())
			.maxInFlight(properties.getMaxInFlight())
			.maxBlock(properties.getMaxBlock())
			.maxRequestSize(BytesProducerFactory.maxRequestSize(factory))
			.listener(SendOutcomeListener.logging())
			.closeOnShutdown(factory::destroy);
		listeners.orderedStream().forEach(builder::listener);
		delayedDelivery.ifUnique(builder::delayedDelivery);
		customizers.orderedStream().forEach((customizer) -> customizer.customize(builder));
		return builder.build();
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	@ConditionalOnBean(MeterRegistry.class)
	static class ProducerMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		MicrometerSendOutcomeListener reliableKafkaProducerMetrics(MeterRegistry meterRegistry) {
			return new MicrometerSendOutcomeListener(meterRegistry);
		}

	}

}
