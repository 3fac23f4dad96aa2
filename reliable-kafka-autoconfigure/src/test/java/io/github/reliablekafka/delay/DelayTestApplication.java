package io.github.reliablekafka.delay;

import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.delay.ReliableKafkaDelayAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.testing.TestApplications;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts an application with Kafka, delayed delivery, the reliable producer and reliable listeners, plus the given
 * configuration classes. Its tier topics and forwarder group are its own (prefix and group from
 * {@code test.delay-prefix}).
 */
public final class DelayTestApplication {

	private DelayTestApplication() {
	}

	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, ReliableKafkaAutoConfiguration.class, ReliableKafkaDelayAutoConfiguration.class,
			ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class })
	static class AutoConfigurations {

	}

	/**
	 * A forwarder only, for crash tests. Arguments: bootstrap servers, the tier topic prefix.
	 * @param args the arguments
	 */
	public static void main(String[] args) {
		start(args[0], args[1], List.of(),
				// a killed forwarder's partitions move on after 6 s, not the default 45 s
				"spring.kafka.consumer.properties.session.timeout.ms=6000",
				"spring.kafka.consumer.properties.heartbeat.interval.ms=2000");
		System.out.println("STARTED");
	}

	static ConfigurableApplicationContext start(String bootstrapServers, String prefix, List<Class<?>> sources,
			String... properties) {
		List<String> all = new ArrayList<>(List.of("spring.kafka.bootstrap-servers=" + bootstrapServers,
				"reliable.kafka.consumer.retry.delay=50ms",
				"reliable.kafka.consumer.retry.max-delay=200ms", "reliable.kafka.delay.topic-prefix=" + prefix,
				"reliable.kafka.delay.group-id=" + prefix + "forwarder", "reliable.kafka.delay.partitions=2"));
		all.addAll(List.of(properties));
		List<Class<?>> classes = new ArrayList<>(sources);
		classes.add(AutoConfigurations.class);
		return TestApplications.run(classes, all);
	}

}
