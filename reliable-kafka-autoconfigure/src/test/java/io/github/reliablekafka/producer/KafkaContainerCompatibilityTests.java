package io.github.reliablekafka.producer;

import java.time.Duration;

import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.KafkaTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.testcontainers.kafka.KafkaContainer;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.kafka.support.SendResult;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The template against the official Apache Kafka image, where a Docker engine exists (users' laptops, GitHub
 * Actions). Guarantees are proven on in-JVM and forked brokers, which need no Docker; this checks that nothing in
 * the library depends on the embedded set-up.
 */
@EnabledIf("io.github.reliablekafka.testing.TestServices#dockerAvailable")
class KafkaContainerCompatibilityTests {

	@Test
	void templateSendsToAKafkaContainer() {
		try (KafkaContainer kafka = new KafkaContainer("apache/kafka:4.1.0")) {
			kafka.start();
			String topic = KafkaTestSupport.uniqueTopic("container");
			new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class,
						ReliableKafkaProducerAutoConfiguration.class))
				.withPropertyValues("spring.kafka.bootstrap-servers=" + kafka.getBootstrapServers())
				.run((context) -> {
					SendResult<String, byte[]> result = context.getBean(ReliableKafkaTemplate.class)
						.sendAndWait(topic, "k", "hello");
					assertThat(KafkaTestSupport.readAll(kafka.getBootstrapServers(), topic, Duration.ofSeconds(30)))
						.singleElement()
						.satisfies((record) -> assertThat(RkHeaders.id(record.headers()))
							.isEqualTo(RkHeaders.id(result.getProducerRecord().headers())));
				});
		}
	}

}
