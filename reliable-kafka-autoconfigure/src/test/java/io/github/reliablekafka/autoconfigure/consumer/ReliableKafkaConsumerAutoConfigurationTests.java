package io.github.reliablekafka.autoconfigure.consumer;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.MicrometerListenerOutcomes;
import io.github.reliablekafka.consumer.NonRetryableException;
import io.github.reliablekafka.consumer.NullPayload;
import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.listener.ContainerProperties.AckMode;

import static org.assertj.core.api.Assertions.assertThat;

class ReliableKafkaConsumerAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class,
				ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class))
		.withPropertyValues("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers());

	@Test
	void theFactoryCommitsOnlyAfterTheWorkAndReadsBytes() {
		this.contextRunner.run((context) -> {
			ReliableKafkaListenerContainerFactory factory = context.getBean(ReliableListener.CONTAINER_FACTORY,
					ReliableKafkaListenerContainerFactory.class);
			Map<String, Object> config = factory.getConsumerFactory().getConfigurationProperties();
			assertThat(config).containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false)
				.containsEntry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")
				.containsEntry(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class)
				.containsEntry(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
			assertThat(factory.getContainerProperties().getAckMode()).isEqualTo(AckMode.BATCH);
			assertThat(context).as("plain @KafkaListener methods keep Spring Boot's factory")
				.hasBean("kafkaListenerContainerFactory");
		});
	}

	@Test
	void autoCommitIsRefusedWithAClearStartupError() {
		this.contextRunner.withPropertyValues("spring.kafka.consumer.enable-auto-commit=true")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("enable.auto.commit=true")
				.hasMessageContaining("Remove the setting"));
	}

	@Test
	void autoCommitForOneListenerIsRefusedToo() {
		this.contextRunner.withUserConfiguration(AutoCommitListener.class)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasStackTraceContaining("'auto-commit'")
				.hasStackTraceContaining("enable.auto.commit=true"));
	}

	@Test
	void aSessionShorterThanThreeHeartbeatsIsRefused() {
		this.contextRunner.withUserConfiguration(ShortSessionListener.class)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasStackTraceContaining("session.timeout.ms=6000")
				.hasStackTraceContaining("3 x heartbeat.interval.ms=3000"));
	}

	@Test
	void theApplicationsOffsetResetWins() {
		this.contextRunner.withPropertyValues("spring.kafka.consumer.auto-offset-reset=latest")
			.run((context) -> assertThat(context.getBean(ReliableListener.CONTAINER_FACTORY,
					ReliableKafkaListenerContainerFactory.class)
				.getConsumerFactory()
				.getConfigurationProperties()).containsEntry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest"));
	}

	@Test
	void propertiesAreBound() {
		this.contextRunner
			.withPropertyValues("reliable.kafka.consumer.null-payload=dead-letter",
					"reliable.kafka.consumer.retry.max-attempts=5", "reliable.kafka.consumer.retry.delay=2s",
					"reliable.kafka.consumer.retry.multiplier=1.5", "reliable.kafka.consumer.retry.max-delay=1m",
					"reliable.kafka.consumer.retry.jitter=250ms",
					"reliable.kafka.consumer.retry.non-retryable=java.lang.IllegalArgumentException",
					"reliable.kafka.consumer.dead-letter.suffix=-dead")
			.run((context) -> {
				ReliableKafkaConsumerProperties properties = context.getBean(ReliableKafkaConsumerProperties.class);
				assertThat(properties.getNullPayload()).isEqualTo(NullPayload.DEAD_LETTER);
				assertThat(properties.getRetry().getMaxAttempts()).isEqualTo(5);
				assertThat(properties.getRetry().getDelay()).isEqualTo(Duration.ofSeconds(2));
				assertThat(properties.getRetry().getMultiplier()).isEqualTo(1.5);
				assertThat(properties.getRetry().getMaxDelay()).isEqualTo(Duration.ofMinutes(1));
				assertThat(properties.getRetry().getJitter()).isEqualTo(Duration.ofMillis(250));
				assertThat(properties.getRetry().toBackoff().jitter()).isEqualTo(Duration.ofMillis(250));
				assertThat(properties.getRetry().getNonRetryable()).containsExactly(IllegalArgumentException.class);
				assertThat(properties.getDeadLetter().getSuffix()).isEqualTo("-dead");
			});
	}

	@Test
	void defaultsMatchTheDocumentedOnes() {
		ReliableKafkaConsumerProperties properties = new ReliableKafkaConsumerProperties();
		assertThat(properties.getNullPayload()).isEqualTo(NullPayload.SKIP);
		assertThat(properties.getRetry().getMaxAttempts()).isEqualTo(3);
		assertThat(properties.getRetry().getDelay()).isEqualTo(Duration.ofSeconds(1));
		assertThat(properties.getRetry().getMultiplier()).isEqualTo(2.0);
		assertThat(properties.getRetry().getMaxDelay()).isEqualTo(Duration.ofSeconds(30));
		assertThat(properties.getRetry().getNonRetryable()).isEmpty();
		assertThat(properties.getDeadLetter().getSuffix()).isEqualTo(".DLT");
	}

	@Test
	void metricsNeedAMeterRegistry() {
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(MicrometerListenerOutcomes.class));
		this.contextRunner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.run((context) -> assertThat(context).hasSingleBean(MicrometerListenerOutcomes.class));
	}

	@Test
	void backsOffWithoutSpringKafka() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(EnableKafka.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(ReliableListener.CONTAINER_FACTORY));
	}

	@Test
	void nonRetryableExceptionIsPublic() {
		assertThat(new NonRetryableException("x", new IllegalStateException())).hasMessage("x");
		assertThat(List.of(NullPayload.values())).hasSize(3);
	}

	@Configuration(proxyBeanMethods = false)
	static class AutoCommitListener {

		@Bean
		AutoCommitBean autoCommitBean() {
			return new AutoCommitBean();
		}

	}

	public static class AutoCommitBean {

		@ReliableListener(id = "auto-commit", topics = "t", groupId = "g", autoStartup = "false",
				properties = "enable.auto.commit=true")
		public void on(String value) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ShortSessionListener {

		@Bean
		ShortSessionBean shortSessionBean() {
			return new ShortSessionBean();
		}

	}

	public static class ShortSessionBean {

		@ReliableListener(id = "short-session", topics = "t", groupId = "g", autoStartup = "false",
				properties = { "session.timeout.ms=6000", "heartbeat.interval.ms=3000" })
		public void on(String value) {
		}

	}

	@Test
	void customizersChangeTheFactoryAfterBootsSettingsAndTheProperties() {
		this.contextRunner.withPropertyValues("spring.kafka.listener.idle-event-interval=5s")
			.withBean(io.github.reliablekafka.consumer.ReliableListenerContainerFactoryCustomizer.class,
					() -> (factory) -> factory.getContainerProperties().setIdleEventInterval(42_000L))
			.run((context) -> {
				ReliableKafkaListenerContainerFactory factory = context.getBean(ReliableListener.CONTAINER_FACTORY,
						ReliableKafkaListenerContainerFactory.class);
				assertThat(factory.getContainerProperties().getIdleEventInterval()).as("the customizer ran last")
					.isEqualTo(42_000L);
			});
	}

	@Test
	void aKeyOrderedListenerGetsADispatcherInManualAckMode() {
		this.contextRunner.withUserConfiguration(KeyOrderedListener.class)
			.withPropertyValues("reliable.kafka.consumer.dispatch.workers=4",
					"reliable.kafka.consumer.dispatch.max-in-flight-bytes=1MB")
			.run((context) -> {
				ReliableKafkaListenerContainerFactory factory = context.getBean(ReliableListener.CONTAINER_FACTORY,
						ReliableKafkaListenerContainerFactory.class);
				assertThat(factory.dispatchers()).hasSize(1);
				assertThat(context.getBean(io.github.reliablekafka.consumer.ReliableListeners.class).dispatchers())
					.as("registered where the endpoint and replay find it").hasSize(1);
				org.springframework.kafka.listener.MessageListenerContainer container = context
					.getBean(org.springframework.kafka.config.KafkaListenerEndpointRegistry.class)
					.getListenerContainer("keyed");
				assertThat(container.getContainerProperties().getAckMode()).isEqualTo(AckMode.MANUAL);
				assertThat(container.getContainerProperties().isAsyncAcks()).isFalse();
				assertThat(container.getContainerProperties().getMessageListener())
					.isInstanceOf(io.github.reliablekafka.dispatch.KeyOrderedDispatcher.class);
				assertThat(context.getBean(ReliableKafkaConsumerProperties.class).getDispatch().getMaxInFlightBytes())
					.isEqualTo(org.springframework.util.unit.DataSize.ofMegabytes(1));
				assertThat(context.getBean(org.springframework.kafka.config.KafkaListenerEndpointRegistry.class)
					.getListenerContainer("partition-ordered")
					.getContainerProperties()
					.getAckMode()).as("Ordering.PARTITION keeps the default behaviour").isEqualTo(AckMode.BATCH);
			});
	}

	@Test
	void outOfRangeDispatchSettingsAreAClearStartupError() {
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.dispatch.workers=0")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasStackTraceContaining("reliable.kafka.consumer.dispatch.workers must be at least 1, was 0"));
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.dispatch.max-in-flight-bytes=0B")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasStackTraceContaining("max-in-flight-bytes must be positive"));
	}

	@Configuration(proxyBeanMethods = false)
	static class KeyOrderedListener {

		@Bean
		KeyOrderedBean keyOrderedBean() {
			return new KeyOrderedBean();
		}

	}

	public static class KeyOrderedBean {

		@ReliableListener(id = "keyed", topics = "t", groupId = "g", autoStartup = "false",
				ordering = io.github.reliablekafka.dispatch.Ordering.KEY)
		public void on(String value) {
		}

		@ReliableListener(id = "partition-ordered", topics = "t2", groupId = "g2", autoStartup = "false")
		public void onPartition(String value) {
		}

	}

}
