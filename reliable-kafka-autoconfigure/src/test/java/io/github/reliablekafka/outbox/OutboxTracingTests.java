package io.github.reliablekafka.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import brave.handler.MutableSpan;
import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.delay.ReliableKafkaDelayAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.consumer.GroupType;
import io.github.reliablekafka.consumer.NonRetryableException;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.delay.RetryLaterException;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.BraveTracing;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TopicWatcher;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One trace from the code that sends through the outbox to the listeners that handle the message, on a real broker,
 * PostgreSQL and Brave (through Micrometer Tracing): a request's span sends in a transaction; the relay publishes
 * later, on its own thread; a listener on the consumer thread ({@code PARTITION}), one on key-ordered lanes
 * ({@code KEY}), one in a share group, a record that came back through a delay tier ({@code RetryLaterException})
 * and the dead letter of a poison message all carry the request's trace id.
 */
class OutboxTracingTests {

	static final Map<String, String> traceIdByPayload = new ConcurrentHashMap<>();

	static final Map<String, String> spanIdByPayload = new ConcurrentHashMap<>();

	static final Set<String> retried = ConcurrentHashMap.newKeySet();

	static Tracer tracer;

	private final List<AutoCloseable> closeables = new ArrayList<>();

	@AfterEach
	void close() throws Exception {
		for (int i = this.closeables.size() - 1; i >= 0; i--) { // the application before its database
			this.closeables.get(i).close();
		}
		traceIdByPayload.clear();
		spanIdByPayload.clear();
		retried.clear();
	}

	@Test
	void theSendersTraceRunsThroughTheOutboxTheRelayTheListenersAndTheDeadLetter() throws Exception {
		TestDatabase database = TestDatabase.postgres();
		this.closeables.add(database);
		String partitionTopic = KafkaTestSupport.newTopic("traced-partition", 1);
		String keyTopic = KafkaTestSupport.newTopic("traced-key", 2);
		String shareTopic = KafkaTestSupport.newTopic("traced-share", 1);
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			admin.createTopics(List.of(new NewTopic(partitionTopic + ".DLT", 1, (short) 1))).all().get();
		}
		BraveTracing tracing = BraveTracing.start("outbox-tracing-test");
		this.closeables.add(tracing);
		tracer = tracing.tracer();
		Propagator propagator = tracing.propagator();
		ConfigurableApplicationContext context = OutboxTestApplication.start(List.of(Traced.class), database.url(),
				KafkaTestSupport.bootstrapServers(), "test.partition-topic=" + partitionTopic,
				"test.key-topic=" + keyTopic, "test.share-topic=" + shareTopic,
				"reliable.kafka.consumer.idempotency.store=jdbc",
				"spring.kafka.consumer.auto-offset-reset=earliest",
				"spring.kafka.template.observation-enabled=true",
				"spring.kafka.listener.observation-enabled=true", "reliable.kafka.delay.tiers=1s",
				"reliable.kafka.delay.topic-prefix=rk-delay-" + UUID.randomUUID().toString().substring(0, 8) + "-");
		this.closeables.add(context);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		TransactionTemplate transactions = context.getBean(TransactionTemplate.class);

		Span request = tracer.nextSpan().name("POST /orders").start();
		String requestTraceId = request.context().traceId();
		try (Tracer.SpanInScope scope = tracer.withSpan(request)) {
			transactions.executeWithoutResult((status) -> {
				template.send(partitionTopic, "k-1", "partition");
				template.send(keyTopic, "k-2", "key");
				template.send(shareTopic, "k-4", "share");
				template.send(partitionTopic, "k-3", "poison");
				template.send(partitionTopic, "k-5", "later");
			});
		}
		finally {
			request.end();
		}
		await().atMost(Duration.ofSeconds(30))
			.until(() -> traceIdByPayload.keySet().containsAll(Set.of("partition", "key", "share", "later")));
		String deadLetterTraceId;
		try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(),
				partitionTopic + ".DLT")) {
			ConsumerRecord<String, byte[]> letter = deadLetters.readFor(Duration.ofSeconds(2))
				.stream()
				.findFirst()
				.orElseThrow();
			deadLetterTraceId = propagator
				.extract(letter.headers(), (headers, key) -> (headers.lastHeader(key) != null)
						? new String(headers.lastHeader(key).value(), StandardCharsets.UTF_8) : null)
				.start()
				.context()
				.traceId();
		}
		Map<String, String> traceIds = new TreeMap<>(traceIdByPayload);
		traceIds.put("dead letter", deadLetterTraceId);
		Map<String, Long> spansByName = tracing.spansByName(requestTraceId);
		List<MutableSpan> finished = tracing.finished();
		long other = traceIds.values().stream().filter((id) -> !id.equals(requestTraceId)).count();
		// a span ended twice (Brave reports the second end of a finished span's context without a name) or a listener
		// that ran under a span already ended
		Map<String, Long> endsById = new TreeMap<>();
		finished.forEach((span) -> endsById.merge(span.id(), 1L, Long::sum));
		long endedTwice = endsById.values().stream().filter((ends) -> ends > 1).count();
		MutableSpan keyListenerSpan = finished.stream()
			.filter((span) -> span.id().equals(spanIdByPayload.get("key")))
			.findFirst()
			.orElse(null);
		System.out.printf("request trace %s; trace ids seen: %s; in another trace: %d; ended twice: %d; the KEY "
				+ "listener ran in: %s; finished spans: %s%n", requestTraceId, traceIds, other, endedTwice,
				(keyListenerSpan != null) ? keyListenerSpan.name() : null, spansByName);
		assertThat(traceIds).containsOnlyKeys("partition", "key", "share", "later", "dead letter");
		assertThat(other).isZero();
		assertThat(endedTwice).isZero();
		assertThat(keyListenerSpan).as("the KEY listener's current span").isNotNull();
		assertThat(keyListenerSpan.name()).as("a live span of its own, not the container's, ended at the hand-over")
			.isEqualTo("traced-key lane");
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ ReliableKafkaAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class, ReliableKafkaDelayAutoConfiguration.class })
	@Import(BraveTracing.Beans.class)
	static class Traced {

		@Bean
		Listeners listeners() {
			return new Listeners();
		}

	}

	static class Listeners {

		@ReliableListener(id = "traced-partition", topics = "${test.partition-topic}",
				groupId = "${test.partition-topic}")
		void onPartition(ConsumerRecord<String, byte[]> record) {
			String payload = payload(record);
			if (payload.equals("poison")) {
				throw new NonRetryableException("poison");
			}
			if (payload.equals("later") && retried.add(RkHeaders.id(record.headers()))) {
				throw new RetryLaterException(Duration.ofSeconds(1)); // through a delay tier and its forwarder
			}
			seen(payload);
		}

		@ReliableListener(id = "traced-key", topics = "${test.key-topic}", groupId = "${test.key-topic}",
				ordering = Ordering.KEY, workers = 2)
		void onKey(ConsumerRecord<String, byte[]> record) {
			seen(payload(record));
		}

		@ReliableListener(id = "traced-share", topics = "${test.share-topic}", groupId = "${test.share-topic}",
				group = GroupType.SHARE)
		void onShare(ConsumerRecord<String, byte[]> record) {
			seen(payload(record));
		}

		private static String payload(ConsumerRecord<String, byte[]> record) {
			return new String(record.value(), StandardCharsets.UTF_8).replace("\"", "");
		}

		private static void seen(String payload) {
			Span current = tracer.currentSpan();
			traceIdByPayload.put(payload, (current != null) ? current.context().traceId() : "no span");
			spanIdByPayload.put(payload, (current != null) ? current.context().spanId() : "no span");
		}

	}

}
