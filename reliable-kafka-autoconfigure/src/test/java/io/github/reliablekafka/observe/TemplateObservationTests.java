package io.github.reliablekafka.observe;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.delay.ReliableKafkaDelayAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.consumer.NonRetryableException;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.delay.RetryLaterException;
import io.github.reliablekafka.outbox.OutboxTestApplication;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.support.micrometer.KafkaRecordSenderContext;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With {@code spring.kafka.template.observation-enabled=true}, every record the library sends on the application's
 * behalf is observed with the application's registry: the relay's publish of an outbox row, a dead letter, a record
 * sent to a delay tier by {@code RetryLaterException} and its forward back to its topic.
 */
class TemplateObservationTests {

	static final List<String> handled = new CopyOnWriteArrayList<>();

	static final Set<String> retried = ConcurrentHashMap.newKeySet();

	private final List<AutoCloseable> closeables = new ArrayList<>();

	@AfterEach
	void close() throws Exception {
		for (int i = this.closeables.size() - 1; i >= 0; i--) { // the application before its database
			this.closeables.get(i).close();
		}
		handled.clear();
		retried.clear();
	}

	@Test
	void everyTemplateTheLibraryCreatesIsObservedWhenBootSaysSo() throws Exception {
		TestDatabase database = TestDatabase.postgres();
		this.closeables.add(database);
		String topic = KafkaTestSupport.newTopic("observed-sends", 1);
		String prefix = "rk-delay-" + UUID.randomUUID().toString().substring(0, 8) + "-";
		ConfigurableApplicationContext context = OutboxTestApplication.start(List.of(Observed.class), database.url(),
				KafkaTestSupport.bootstrapServers(), "test.topic=" + topic,
				"reliable.kafka.consumer.idempotency.store=jdbc", "reliable.kafka.delay.topic-prefix=" + prefix,
				"reliable.kafka.delay.tiers=1s", "spring.kafka.consumer.auto-offset-reset=earliest",
				"spring.kafka.template.observation-enabled=true");
		this.closeables.add(context);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		context.getBean(TransactionTemplate.class).executeWithoutResult((status) -> {
			template.send(topic, "k-1", "ok");
			template.send(topic, "k-2", "poison");
			template.send(topic, "k-3", "later");
		});
		await().atMost(Duration.ofSeconds(30)).until(() -> handled.containsAll(List.of("ok", "later")));
		List<String> destinations = context.getBean(SentRecords.class).destinations;
		await().atMost(Duration.ofSeconds(10)).until(() -> destinations.contains(topic + ".DLT"));
		System.out.println("observed sends, by destination: " + destinations);
		assertThat(destinations).as("the relay's three publishes and the forward back from the tier")
			.filteredOn(topic::equals)
			.hasSize(4);
		assertThat(destinations).as("the dead letter").contains(topic + ".DLT");
		assertThat(destinations).as("the record sent to its delay tier").contains(prefix + "1s");
	}

	/** Records the destination of every send observation. */
	static final class SentRecords implements ObservationHandler<KafkaRecordSenderContext> {

		final List<String> destinations = new CopyOnWriteArrayList<>();

		@Override
		public void onStart(KafkaRecordSenderContext context) {
			this.destinations.add(context.getDestination());
		}

		@Override
		public boolean supportsContext(Observation.Context context) {
			return context instanceof KafkaRecordSenderContext;
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ ReliableKafkaAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class, ReliableKafkaDelayAutoConfiguration.class })
	static class Observed {

		@Bean
		SentRecords sentRecords() {
			return new SentRecords();
		}

		@Bean
		ObservationRegistry observationRegistry(SentRecords sentRecords) {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig().observationHandler(sentRecords);
			return registry;
		}

		@Bean
		Listener listener() {
			return new Listener();
		}

	}

	static class Listener {

		@ReliableListener(id = "observed-sends", topics = "${test.topic}", groupId = "${test.topic}")
		void on(ConsumerRecord<String, byte[]> record) {
			String payload = new String(record.value(), StandardCharsets.UTF_8).replace("\"", "");
			if (payload.equals("poison")) {
				throw new NonRetryableException("poison");
			}
			if (payload.equals("later") && retried.add(RkHeaders.id(record.headers()))) {
				throw new RetryLaterException(Duration.ofSeconds(1));
			}
			handled.add(payload);
		}

	}

}
