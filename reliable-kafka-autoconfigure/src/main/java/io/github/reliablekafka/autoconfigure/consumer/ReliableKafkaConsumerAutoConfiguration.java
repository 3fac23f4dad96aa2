package io.github.reliablekafka.autoconfigure.consumer;

import java.util.Map;

import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ListenerOutcomes;
import io.github.reliablekafka.consumer.MicrometerListenerOutcomes;
import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory;
import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory.ReliableListenerSettings;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.consumer.ReliableListenerContainerFactoryCustomizer;
import io.github.reliablekafka.consumer.ReliableListenerRouter;
import io.github.reliablekafka.consumer.ReliableListeners;
import io.github.reliablekafka.consumer.ReliableShareListenerContainerFactory;
import io.github.reliablekafka.delay.DelayedRedelivery;
import io.github.reliablekafka.dispatch.DispatchObserver;
import io.github.reliablekafka.dispatch.DispatchSettings;
import io.github.reliablekafka.dispatch.MicrometerDispatchObserver;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.internal.BytesConsumerFactory;
import io.github.reliablekafka.internal.BytesProducerFactory;
import io.github.reliablekafka.internal.BytesShareConsumerFactory;
import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.internal.TemplateObservation;
import io.github.reliablekafka.support.PayloadCodec;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.kafka.support.ProducerListener;
import org.springframework.kafka.support.converter.RecordMessageConverter;
import org.springframework.kafka.transaction.KafkaAwareTransactionManager;

/**
 * Auto-configuration of reliable listeners: the {@value ReliableListener#ROUTER} that {@link ReliableListener}
 * methods name, and the two container factories it passes them to, {@value ReliableListener#CONTAINER_FACTORY}
 * (consumer groups) and {@value ReliableListener#SHARE_CONTAINER_FACTORY} (share groups).
 */
@AutoConfiguration(after = { KafkaAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class },
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass({ EnableKafka.class, ConcurrentKafkaListenerContainerFactoryConfigurer.class })
@ConditionalOnBean({ ConsumerFactory.class, ProducerFactory.class, ConcurrentKafkaListenerContainerFactoryConfigurer.class })
@EnableConfigurationProperties(ReliableKafkaConsumerProperties.class)
public final class ReliableKafkaConsumerAutoConfiguration {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaConsumerAutoConfiguration.class);

	/** A dead letter that cannot be published must fail in bounded time, so that the record is retried. */
	private static final long DEAD_LETTER_MAX_BLOCK_MS = 10_000;

	/**
	 * The registry of the reliable listeners the container factory creates, injected where they are needed.
	 * @return the registry
	 */
	@Bean
	ReliableListeners reliableKafkaListeners() {
		return new ReliableListeners();
	}

	/**
	 * The container factory {@link ReliableListener} names: passes each listener to the factory of its group type.
	 * @param beans where both factories are looked up, by name, when first needed
	 * @return the router
	 */
	@Bean(name = ReliableListener.ROUTER, autowireCandidate = false)
	@ConditionalOnMissingBean(name = ReliableListener.ROUTER)
	static ReliableListenerRouter reliableKafkaListenerRouter(BeanFactory beans) {
		return new ReliableListenerRouter(
				() -> beans.getBean(ReliableListener.CONTAINER_FACTORY, KafkaListenerContainerFactory.class),
				() -> beans.getBean(ReliableListener.SHARE_CONTAINER_FACTORY, KafkaListenerContainerFactory.class));
	}

	/**
	 * The container factory of share-group listeners ({@code @ReliableListener(group = GroupType.SHARE)}), with the
	 * same retries, dead letters, codec, guard and outcome counts as the consumer-group factory.
	 */
	@Bean(name = ReliableListener.SHARE_CONTAINER_FACTORY, autowireCandidate = false)
	@ConditionalOnMissingBean(name = ReliableListener.SHARE_CONTAINER_FACTORY)
	@SuppressWarnings("unchecked")
	ReliableShareListenerContainerFactory reliableKafkaShareListenerContainerFactory(
			ConsumerFactory<?, ?> consumerFactory, ProducerFactory<?, ?> producerFactory, PayloadCodec codec,
			ReliableKafkaConsumerProperties properties, ObjectProvider<ListenerOutcomes> outcomes,
			ObjectProvider<RecordInterceptor<?, ?>> interceptors, ObjectProvider<ReliableIdempotency> idempotency,
			ObjectProvider<DelayedRedelivery> redelivery, ReliableListeners listeners,
			ObjectProvider<SharedAdmin> sharedAdmin, KafkaProperties kafkaProperties,
			ObjectProvider<ObservationRegistry> observationRegistry) {
		DeadLetters deadLetters = deadLetters(producerFactory, properties, "-share-dlt",
				observation(kafkaProperties, observationRegistry));
		SharedAdmin shared = sharedAdmin.getIfAvailable();
		SharedAdmin own = (shared != null) ? null : new SharedAdmin(adminConfig(consumerFactory));
		SharedAdmin admin = (shared != null) ? shared : own;
		ReliableShareListenerContainerFactory factory = new ReliableShareListenerContainerFactory(deadLetters.settings(),
				deadLetters.template(), outcomes.getIfAvailable(() -> ListenerOutcomes.NONE),
				(RecordInterceptor<String, byte[]>) interceptors.getIfUnique(), () -> {
					deadLetters.factory().destroy();
					if (own != null) {
						own.close();
					}
				}, listeners, BytesShareConsumerFactory.from(consumerFactory, properties.getShare().getMaxPollRecords()), admin::get,
				BytesShareConsumerFactory.autoOffsetReset(consumerFactory));
		factory.setPayloadCodec(codec);
		factory.setConcurrency(properties.getShare().getConcurrency());
		if (kafkaProperties.getListener().isObservationEnabled()) {
			observationRegistry.ifUnique(factory::setObservationRegistry);
		}
		idempotency.ifAvailable(factory::setIdempotency);
		redelivery.ifUnique(factory::setRetryLater);
		return factory;
	}

	@Bean(name = ReliableListener.CONTAINER_FACTORY, autowireCandidate = false)
	@ConditionalOnMissingBean(name = ReliableListener.CONTAINER_FACTORY)
	@SuppressWarnings({ "unchecked", "rawtypes" })
	ReliableKafkaListenerContainerFactory reliableKafkaListenerContainerFactory(
			ConcurrentKafkaListenerContainerFactoryConfigurer configurer, ConsumerFactory<?, ?> consumerFactory,
			ProducerFactory<?, ?> producerFactory, PayloadCodec codec, ReliableKafkaConsumerProperties properties,
			ObjectProvider<ListenerOutcomes> outcomes, ObjectProvider<RecordInterceptor<?, ?>> interceptors,
			ObjectProvider<ReliableIdempotency> idempotency, ObjectProvider<DispatchObserver> dispatchObservers,
			ObjectProvider<DelayedRedelivery> redelivery, ObjectProvider<CommonErrorHandler> errorHandlers,
			ObjectProvider<RecordMessageConverter> converters, ReliableListeners listeners,
			ObjectProvider<ReliableListenerContainerFactoryCustomizer> customizers, KafkaProperties kafkaProperties,
			ObjectProvider<ObservationRegistry> observationRegistry) {
		DeadLetters deadLetters = deadLetters(producerFactory, properties, "-dlt",
				observation(kafkaProperties, observationRegistry));
		ReliableKafkaListenerContainerFactory factory = new ReliableKafkaListenerContainerFactory(deadLetters.settings(),
				deadLetters.template(), outcomes.getIfAvailable(() -> ListenerOutcomes.NONE),
				(RecordInterceptor<String, byte[]>) interceptors.getIfUnique(), deadLetters.factory()::destroy,
				listeners);
		configurer.configure((ConcurrentKafkaListenerContainerFactory) factory,
				(ConsumerFactory) reliableConsumerFactory(consumerFactory));
		replaced(factory, errorHandlers.getIfUnique(), converters.getIfUnique());
		factory.setPayloadCodec(codec);
		idempotency.ifAvailable((guard) -> factory.setIdempotency(guard, codec));
		redelivery.ifUnique(factory::setRetryLater);
		factory.setDispatch(dispatchSettings(properties.getDispatch()),
				dispatchObservers.getIfAvailable(() -> DispatchObserver.NONE));
		observationRegistry.ifUnique(factory::setObservationRegistry);
		customizers.orderedStream().forEach((customizer) -> customizer.customize(factory));
		return factory;
	}

	/**
	 * The dead-letter producer of a container factory, bounded in how long a publish may block, and the listener
	 * settings that go with it. The producer is a bean of its own, closed with the context.
	 */
	private static TemplateObservation observation(KafkaProperties kafkaProperties,
			ObjectProvider<ObservationRegistry> observationRegistry) {
		return new TemplateObservation(kafkaProperties.getTemplate().isObservationEnabled(),
				observationRegistry.getIfUnique());
	}

	private static DeadLetters deadLetters(ProducerFactory<?, ?> producerFactory,
			ReliableKafkaConsumerProperties properties, String clientIdSuffix, TemplateObservation observation) {
		ReliableKafkaConsumerProperties.Retry retry = properties.getRetry();
		Object userMaxBlock = producerFactory.getConfigurationProperties().get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
		long maxBlock = Math.min((userMaxBlock != null) ? Long.parseLong(userMaxBlock.toString().trim()) : 60_000,
				DEAD_LETTER_MAX_BLOCK_MS);
		DefaultKafkaProducerFactory<String, byte[]> deadLetterFactory = BytesProducerFactory.from(producerFactory,
				clientIdSuffix, Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock));
		ReliableKafkaConsumerProperties.DeadLetter deadLetter = properties.getDeadLetter();
		ReliableListenerSettings settings = new ReliableListenerSettings(retry.toBackoff(), retry.getNonRetryable(),
				deadLetter.getSuffix(), properties.getNullPayload(),
				(int) Math.min(Integer.MAX_VALUE, deadLetter.getMaxExceptionMessage().toBytes()),
				(int) Math.min(Integer.MAX_VALUE, deadLetter.getMaxStackTrace().toBytes()),
				BytesProducerFactory.maxRequestSize(deadLetterFactory), deadLetter.isLogPayload());
		KafkaTemplate<String, byte[]> template = new KafkaTemplate<>(deadLetterFactory);
		template.setProducerListener(new ProducerListener<>() {
			// outcomes are logged by the error handler
		});
		observation.applyTo(template);
		return new DeadLetters(settings, template, deadLetterFactory);
	}

	/** The admin settings among the consumer's (servers, security), for an application without a shared admin. */
	private static Map<String, Object> adminConfig(ConsumerFactory<?, ?> consumerFactory) {
		Map<String, Object> config = new java.util.HashMap<>(consumerFactory.getConfigurationProperties());
		config.keySet().retainAll(AdminClientConfig.configNames());
		return config;
	}

	/** A container factory's dead-letter template, its producer factory and the listener settings. */
	private record DeadLetters(ReliableListenerSettings settings, KafkaTemplate<String, byte[]> template,
			DefaultKafkaProducerFactory<String, byte[]> factory) {
	}

	/**
	 * Say which of the application's listener settings, applied to every container factory by Spring Boot, reliable
	 * listeners do not use; take the Kafka transaction manager off (a reliable listener commits its offsets itself,
	 * after the work; in a Kafka transaction its dead letters and retries would not be what the docs say).
	 */
	private static void replaced(ReliableKafkaListenerContainerFactory factory, @Nullable CommonErrorHandler errorHandler,
			@Nullable RecordMessageConverter converter) {
		if (errorHandler != null) {
			logger.warn("The application's CommonErrorHandler ({}) is not used by reliable listeners: they retry with "
					+ "reliable.kafka.consumer.retry.* and then dead-letter; plain @KafkaListener methods keep it",
					errorHandler.getClass().getName());
		}
		if (converter != null) {
			logger.warn("The application's RecordMessageConverter ({}) is not used by reliable listeners: they read "
					+ "payloads with the PayloadCodec bean (declare your own PayloadCodec to change how); plain "
					+ "@KafkaListener methods keep it", converter.getClass().getName());
		}
		KafkaAwareTransactionManager<?, ?> transactions = factory.getContainerProperties()
			.getKafkaAwareTransactionManager();
		if (transactions != null) {
			factory.getContainerProperties().setKafkaAwareTransactionManager(null);
			logger.warn("Reliable listeners do not run in Kafka transactions (spring.kafka.producer.transaction-id-prefix "
					+ "gives the application's listener containers a {}): they commit each record's offset after the "
					+ "work, with idempotency guards for its effects; plain @KafkaListener methods keep the transactions",
					transactions.getClass().getSimpleName());
		}
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
		@ConditionalOnMissingBean(DispatchObserver.class)
		MicrometerDispatchObserver reliableKafkaDispatchMetrics(MeterRegistry meterRegistry) {
			return new MicrometerDispatchObserver(meterRegistry);
		}

		@Bean
		@ConditionalOnMissingBean(ListenerOutcomes.class)
		MicrometerListenerOutcomes reliableKafkaConsumerMetrics(MeterRegistry meterRegistry) {
			return new MicrometerListenerOutcomes(meterRegistry);
		}

	}

}
