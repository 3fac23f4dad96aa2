package io.github.reliablekafka.samples.orders;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * The order service. With no {@code spring.kafka.bootstrap-servers} it starts an in-JVM KRaft broker first, so
 * it runs from a fresh clone with only a JDK; {@code --demo} runs the demo scenario and exits with its verdict.
 */
@SpringBootApplication
public class OrderServiceApplication {

	public static void main(String[] args) {
		List<String> arguments = new ArrayList<>(Arrays.asList(args));
		EmbeddedKafkaKraftBroker broker = null;
		if (System.getProperty("spring.kafka.bootstrap-servers") == null
				&& System.getenv("SPRING_KAFKA_BOOTSTRAP_SERVERS") == null
				&& arguments.stream().noneMatch((arg) -> arg.startsWith("--spring.kafka.bootstrap-servers"))) {
			System.out.println("No spring.kafka.bootstrap-servers set: starting an embedded Kafka broker...");
			broker = new EmbeddedKafkaKraftBroker(1, 3);
			broker.brokerProperties(Map.of("group.initial.rebalance.delay.ms", "0", "offsets.topic.num.partitions", "3"));
			broker.afterPropertiesSet();
			arguments.add("--spring.kafka.bootstrap-servers=" + broker.getBrokersAsString());
		}
		int exitCode;
		try {
			exitCode = SpringApplication.exit(SpringApplication.run(OrderServiceApplication.class,
					arguments.toArray(String[]::new)));
		}
		finally {
			if (broker != null) {
				broker.destroy();
			}
		}
		if (arguments.contains("--demo")) {
			System.exit(exitCode);
		}
	}

}
