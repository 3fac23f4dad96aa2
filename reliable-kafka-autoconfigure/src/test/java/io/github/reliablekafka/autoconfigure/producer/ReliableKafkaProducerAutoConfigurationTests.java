package io.github.reliablekafka.autoconfigure.producer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.reliablekafka.producer.MicrometerSendOutcomeListener;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.SendOutcomeListener;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.mockito.Mockito;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.support.SendResult;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(OutputCaptureExtension.class)
class ReliableKafkaProducerAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class,
				ReliableKafkaProducerAutoConfiguration.class))
		.withPropertyValues("spring.kafka.bootstrap-servers=127.0.0.1:1");

	@Test
	void safeDefaultsAreAppliedToTheProducerFactory() {
		this.contextRunner.run((context) -> {
			Map<String, Object> configs = context.getBean(ProducerFactory.class).getConfigurationProperties();
			assertThat(configs).containsEntry(ProducerConfig.ACKS_CONFIG, "all")
				.containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
				.containsEntry(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE)
				.containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5)
				.containsEntry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
			assertThat(context).hasSingleBean(ReliableKafkaTemplate.class).hasSingleBean(PayloadCodec.class);
		});
	}

	@Test
	void userProducerSettingsWinAndUnsafeOnesAreLogged(CapturedOutput output) {
		this.contextRunner
			.withPropertyValues("spring.kafka.producer.acks=1", "spring.kafka.producer.properties[delivery.timeout.ms]=60000")
			.run((context) -> {
				Map<String, Object> configs = context.getBean(ProducerFactory.class).getConfigurationProperties();
				assertThat(configs).containsEntry(ProducerConfig.ACKS_CONFIG, "1")
					.containsEntry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000")
					.doesNotContainKey(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
				assertThat(context).hasSingleBean(ReliableKafkaTemplate.class);
				assertThat(output).containsOnlyOnce("Unsafe Kafka producer setting").contains("acks=1");
			});
	}

	@Test
	void propertiesAreBound() {
		this.contextRunner
			.withPropertyValues("reliable.kafka.producer.send-timeout=5s", "reliable.kafka.producer.max-in-flight=7",
					"reliable.kafka.producer.max-block=2s", "reliable.kafka.producer.retry.max-attempts=9",
					"reliable.kafka.producer.retry.delay=100ms", "reliable.kafka.producer.retry.multiplier=3",
					"reliable.kafka.producer.retry.max-delay=1m")
			.run((context) -> {
				ReliableKafkaProducerProperties properties = context.getBean(ReliableKafkaProducerProperties.class);
				assertThat(properties.getSendTimeout()).isEqualTo(Duration.ofSeconds(5));
				assertThat(properties.getMaxInFlight()).isEqualTo(7);
				assertThat(properties.getMaxBlock()).isEqualTo(Duration.ofSeconds(2));
				assertThat(properties.getRetry().getMaxAttempts()).isEqualTo(9);
				assertThat(properties.getRetry().getDelay()).isEqualTo(Duration.ofMillis(100));
				assertThat(properties.getRetry().getMultiplier()).isEqualTo(3.0);
				assertThat(properties.getRetry().getMaxDelay()).isEqualTo(Duration.ofMinutes(1));
			});
	}

	@Test
	void defaultsMatchTheDocumentedOnes() {
		ReliableKafkaProducerProperties properties = new ReliableKafkaProducerProperties();
		assertThat(properties.getSendTimeout()).isEqualTo(Duration.ofSeconds(30));
		assertThat(properties.getMaxInFlight()).isEqualTo(10_000);
		assertThat(properties.getMaxBlock()).isEqualTo(Duration.ofSeconds(60));
		assertThat(properties.getRetry().getMaxAttempts()).isEqualTo(5);
		assertThat(properties.getRetry().getDelay()).isEqualTo(Duration.ofMillis(500));
		assertThat(properties.getRetry().getMultiplier()).isEqualTo(2.0);
		assertThat(properties.getRetry().getMaxDelay()).isEqualTo(Duration.ofSeconds(30));
	}

	@Test
	void backsOffWithoutSpringKafka() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(KafkaTemplate.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(ReliableKafkaTemplate.class));
	}

	@Test
	void metricsListenerNeedsAMeterRegistry() {
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(MicrometerSendOutcomeListener.class));
		this.contextRunner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.run((context) -> assertThat(context).hasSingleBean(MicrometerSendOutcomeListener.class));
	}

	@Test
	void worksWithoutMicrometer() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(MeterRegistry.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(ReliableKafkaTemplate.class)
				.doesNotHaveBean(MicrometerSendOutcomeListener.class));
	}

	@Test
	void userBeansWin() {
		ReliableKafkaTemplate custom = Mockito.mock(ReliableKafkaTemplate.class);
		PayloadCodec codec = Mockito.mock(PayloadCodec.class);
		this.contextRunner.withBean(ReliableKafkaTemplate.class, () -> custom)
			.withBean(PayloadCodec.class, () -> codec)
			.run((context) -> {
				assertThat(context.getBean(ReliableKafkaTemplate.class)).isSameAs(custom);
				assertThat(context.getBean(PayloadCodec.class)).isSameAs(codec);
			});
	}

	@Test
	void sendsReachTheBrokerAndEveryOutcomeReachesListenersAndMetrics() {
		List<String> heard = new CopyOnWriteArrayList<>();
		SendOutcomeListener listener = new SendOutcomeListener() {
			@Override
			public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
				heard.add(RkHeaders.id(record.headers()));
			}
		};
		String topic = KafkaTestSupport.newTopic("autoconfig", 1);
		this.contextRunner.withPropertyValues("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers())
			.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.withBean(SendOutcomeListener.class, () -> listener)
			.run((context) -> {
				ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
				SendResult<String, byte[]> result = template.sendAndWait(topic, "k", new Greeting("hello"));
				assertThat(new String(result.getProducerRecord().value())).isEqualTo("{\"text\":\"hello\"}");
				assertThat(heard).containsExactly(RkHeaders.id(result.getProducerRecord().headers()));
				assertThat(context.getBean(MeterRegistry.class)
					.get("reliable.kafka.producer.sends")
					.tags("result", "success", "topic", topic)
					.counter()
					.count()).isEqualTo(1.0);
				assertThat(KafkaTestSupport.readAll(KafkaTestSupport.bootstrapServers(), topic, Duration.ofSeconds(10)))
					.singleElement()
					.satisfies((record) -> assertThat(RkHeaders.id(record.headers()))
						.isEqualTo(RkHeaders.id(result.getProducerRecord().headers())));
			});
	}

	@Test
	void customizersChangeTheBuilderAfterTheProperties() {
		List<String> heard = new CopyOnWriteArrayList<>();
		SendOutcomeListener fromCustomizer = new SendOutcomeListener() {
			@Override
			public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
				heard.add(RkHeaders.id(record.headers()));
			}
		};
		String topic = KafkaTestSupport.newTopic("autoconfig-customized", 1);
		this.contextRunner.withPropertyValues("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers())
			.withBean(io.github.reliablekafka.producer.ReliableKafkaTemplateCustomizer.class,
					() -> (builder) -> builder.listener(fromCustomizer))
			.run((context) -> {
				SendResult<String, byte[]> result = context.getBean(ReliableKafkaTemplate.class)
					.sendAndWait(topic, "k", new Greeting("customized"));
				assertThat(heard).as("the customizer's listener hears the outcome")
					.containsExactly(RkHeaders.id(result.getProducerRecord().headers()));
			});
	}

	record Greeting(String text) {
	}

}
