package io.github.reliablekafka.consumer;

import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.testing.TestApplications;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts an application with Kafka, the reliable producer and reliable listeners, plus the given configuration
 * classes (which declare the listeners).
 */
final class ConsumerTestApplication {

	private ConsumerTestApplication() {
	}

	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class })
	static class AutoConfigurations {

	}

	static ConfigurableApplicationContext start(String bootstrapServers, List<Class<?>> sources, String... properties) {
		List<String> all = new ArrayList<>(List.of("spring.kafka.bootstrap-servers=" + bootstrapServers,
				"reliable.kafka.consumer.retry.delay=50ms",
				"reliable.kafka.consumer.retry.max-delay=200ms"));
		all.addAll(List.of(properties));
		List<Class<?>> classes = new ArrayList<>(sources);
		classes.add(AutoConfigurations.class);
		return TestApplications.run(classes, all);
	}

}
