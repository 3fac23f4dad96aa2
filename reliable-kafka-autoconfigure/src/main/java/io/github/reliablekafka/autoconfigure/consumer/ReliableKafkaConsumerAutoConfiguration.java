package io.github.reliablekafka.autoconfigure.consumer;

import java.util.Map;

import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.dispatch.DispatchObserver;
import io.github.reliablekafka.dispatch.DispatchSettings;
import io.github.reliablekafka.dispatch.MicrometerDispatchObserver;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.consumer.BytesConsumerFactory;
import io.github.reliablekafka.consumer.ListenerOutcomes;
import io.github.reliablekafka.consumer.MicrometerListenerOutcomes;
import io.github.reliablekafka.consumer.PayloadMessageConverter;
import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory;
import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory.ReliableListenerSettings;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.producer.BytesProducerFactory;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RetryBackoff;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.ProducerConfig;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.kafka.support.ProducerListener;

/**
 * Auto-configuration of reliable listeners: the {@value ReliableListener#CONTAINER_FACTORY} container factory
 * that {@link ReliableListener} methods use.
 */
@AutoConfiguration(after = { KafkaAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class },
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass({ EnableKafka.class, ConcurrentKafkaListenerContainerFactoryConfigurer.class })
@ConditionalOnBean({ ConsumerFactory.class, ProducerFactory.class, ConcurrentKafkaListenerContainerFactoryConfigurer.class })
@EnableConfigurationProperties(ReliableKafkaConsumerProperties.class)
public final class ReliableKafkaConsumerAutoConfiguration {

	/** A dead letter that cannot be published must fail in bounded time, so that the record is retried. */
	private static final long DEAD_LETTER_MAX_BLOCK_MS = 10_000;

	@Bean(name = ReliableListener.CONTAINER_FACTORY, autowireCandidate = false)
	@ConditionalOnMissingBean(name = ReliableListener.CONTAINER_FACTORY)
	@SuppressWarnings({ "unchecked", "rawtypes" })
	ReliableKafkaListenerContainerFactory reliableKafkaListenerContainerFactory(
			ConcurrentKafkaListenerContainerFactoryConfigurer configurer, ConsumerFactory<?, ?> consumerFactory,
			ProducerFactory<?, ?> producerFactory, PayloadCodec codec, ReliableKafkaConsumerProperties properties,
			ObjectProvider<ListenerOutcomes> outcomes, ObjectProvider<RecordInterceptor<?, ?>> interceptors,
			ObjectProvider<ReliableIdempotency> idempotency, ObjectProvider<DispatchObserver> dispatchObservers,
			ObjectProvider<DelayedRedelivery> redelivery) {
		ReliableKafkaConsumerProperties.Retry retry = properties.getRetry();
		ReliableListenerSettings settings = new ReliableListenerSettings(
				new RetryBackoff(retry.getMaxAttempts(), retry.getInitialInterval(), retry.getMultiplier(),
						retry.getMaxInterval()),
				retry.getNonRetryable(), properties.getDeadLetter().getSuffix(), properties.getNullPayload());
		Object userMaxBlock = producerFactory.getConfigurationProperties().get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
		long maxBlock = Math.min((userMaxBlock != null) ? Long.parseLong(userMaxBlock.toString().trim()) : 60_000,
				DEAD_LETTER_MAX_BLOCK_MS);
		DefaultKafkaProducerFactory<String, byte[]> deadLetterFactory = BytesProducerFactory.from(producerFactory,
				"-dlt", Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock));
		KafkaTemplate<String, byte[]> deadLetters = new KafkaTemplate<>(deadLetterFactory);
		deadLetters.setProducerListener(new ProducerListener<>() {
			// outcomes are logged by the error handler
		});
		ReliableKafkaListenerContainerFactory factory = new ReliableKafkaListenerContainerFactory(settings, deadLetters,
				outcomes.getIfAvailable(() -> ListenerOutcomes.NONE),
				(RecordInterceptor<String, byte[]>) interceptors.getIfUnique(), deadLetterFactory::destroy);
		configurer.configure((ConcurrentKafkaListenerContainerFactory) factory,
				(ConsumerFactory) reliableConsumerFactory(consumerFactory));
		factory.setRecordMessageConverter(new PayloadMessageConverter(codec, properties.getNullPayload()));
		idempotency.ifAvailable((guard) -> factory.setIdempotency(guard, codec));
		redelivery.ifUnique(factory::setRetryLater);
		factory.setDispatch(dispatchSettings(properties.getDispatch()),
				dispatchObservers.getIfAvailable(() -> DispatchObserver.NONE));
		return factory;
	}

	/**
	 * The default bounds of dispatching listeners.
	 * @throws IllegalStateException naming the property that is out of range
	 */
	static DispatchSettings dispatchSettings(ReliableKafkaConsumerProperties.Dispatch dispatch) {
		try {
			return new DispatchSettings(Ordering.KEY, dispatch.getWorkers(), dispatch.getMaxThreads(),
					dispatch.getMaxInFlightPerPartition(), dispatch.getMaxInFlightBytes().toBytes(),
					dispatch.getDrainTimeout(), dispatch.isVirtualThreads(), dispatch.getFrontierWarning());
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(ex.getMessage(), ex);
		}
	}

	static DefaultKafkaConsumerFactory<String, byte[]> reliableConsumerFactory(ConsumerFactory<?, ?> source) {
		return BytesConsumerFactory.from(source, Map.of());
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	@ConditionalOnBean(MeterRegistry.class)
	static class ConsumerMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		MicrometerDispatchObserver reliableKafkaDispatchMetrics(MeterRegistry meterRegistry) {
			return new MicrometerDispatchObserver(meterRegistry);
		}

		@Bean
		@ConditionalOnMissingBean
		MicrometerListenerOutcomes reliableKafkaConsumerMetrics(MeterRegistry meterRegistry) {
			return new MicrometerListenerOutcomes(meterRegistry);
		}

	}

}
