package io.github.reliablekafka.test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.reliablekafka.consumer.NonRetryableException;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * A user's {@code @SpringBootTest} with {@link AutoConfigureReliableKafkaTest}: the in-JVM broker, H2 (outbox and
 * ledger), a reliable listener; the waits see the outbox drain and the listener handle every record, and say what
 * they saw when they cannot succeed. The broker backs off when the test names another Kafka.
 */
@SpringBootTest(classes = AutoConfigureReliableKafkaTestTests.App.class,
		properties = { "spring.main.banner-mode=off", "spring.kafka.consumer.auto-offset-reset=earliest" })
@AutoConfigureReliableKafkaTest
class AutoConfigureReliableKafkaTestTests {

	@Autowired
	private ReliableKafkaTemplate template;

	@Autowired
	private TransactionTemplate transactions;

	@Autowired
	private ReliableKafkaAwait await;

	@Autowired
	private App.Listener listener;

	@Test
	void theOutboxDrainsAndTheListenerHandlesEveryRecordOnTheInJvmBroker() {
		this.transactions.executeWithoutResult((status) -> {
			for (int i = 0; i < 20; i++) {
				this.template.send("module-orders", "k-" + (i % 3), "m-" + i);
			}
			this.template.send("module-orders", "k-0", "poison");
		});
		this.await.outboxDrained();
		this.await.handled("module-orders", 20);
		this.await.deadLettered("module-orders", 1);
		Map<String, List<String>> byKey = new ConcurrentHashMap<>();
		this.listener.seen.forEach((seen) -> byKey.computeIfAbsent(seen.split("=")[0], (key) -> new CopyOnWriteArrayList<>())
			.add(seen.split("=")[1]));
		System.out.println("handled: " + this.listener.seen.size() + ", outcomes: " + this.await.counts().counts());
		assertThat(this.listener.seen).hasSize(20);
		assertThat(byKey.get("k-0")).containsExactly("m-0", "m-3", "m-6", "m-9", "m-12", "m-15", "m-18");
		assertThat(this.await.counts().count("module-orders", "dead-lettered")).isOne();
	}

	@Test
	void aWaitThatCannotSucceedSaysWhatItSaw() {
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> this.await.handled("no-such-listener", 1, Duration.ofMillis(200)))
			.withMessageContaining("Listener 'no-such-listener' handled 0 of 1 record(s) within PT0.2S")
			.withMessageContaining("outcomes so far, per listener");
	}

	@Test
	void theInJvmBrokerBacksOffWhenTheTestNamesAnotherKafka() {
		ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
				AutoConfigurations.of(ReliableKafkaTestAutoConfiguration.class, KafkaAutoConfiguration.class));
		runner.withPropertyValues("spring.kafka.bootstrap-servers=localhost:1")
			.run((context) -> assertThat(context).doesNotHaveBean(InJvmKafka.class));
		runner.withPropertyValues("reliable.kafka.test.broker=none")
			.run((context) -> assertThat(context).doesNotHaveBean(InJvmKafka.class));
		runner.withBean(KafkaConnectionDetails.class, () -> () -> List.of("localhost:1"))
			.run((context) -> assertThat(context).doesNotHaveBean(InJvmKafka.class)
				.getBean(KafkaConnectionDetails.class)
				.extracting(KafkaConnectionDetails::getBootstrapServers)
				.isEqualTo(List.of("localhost:1")));
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Listener listener() {
			return new Listener();
		}

		static class Listener {

			final List<String> seen = new CopyOnWriteArrayList<>();

			@ReliableListener(id = "module-orders", topics = "module-orders", groupId = "module-orders")
			void on(ConsumerRecord<String, byte[]> record) {
				String payload = new String(record.value(), StandardCharsets.UTF_8).replace("\"", "");
				if (payload.equals("poison")) {
					throw new NonRetryableException("poison");
				}
				this.seen.add(record.key() + "=" + payload);
			}

		}

	}

}
