package io.github.reliablekafka.delay;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.testing.BraveTracing;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A message sent with {@code sendDelayed} through the delay tiers, without an outbox, stays in its sender's trace: the
 * direct template writes the sender's context into the tier record, and the forwarder forwards it inside a
 * {@code delay forward} span continuing that context, on a real broker with Brave (through Micrometer Tracing). The
 * templates' send observation is off, so that no send span can carry the context in the library's place.
 */
class DelayTracingTests {

	static final Map<String, String> traceIdByPayload = new ConcurrentHashMap<>();

	@Test
	void aMessageSentDelayedThroughTheTiersWithoutAnOutboxStaysInTheSendersTrace() throws Exception {
		String topic = KafkaTestSupport.newTopic("traced-delayed", 1);
		String prefix = "rk-delay-" + UUID.randomUUID().toString().substring(0, 8) + "-";
		try (BraveTracing tracing = BraveTracing.start("delay-tracing-test");
				ConfigurableApplicationContext context = DelayTestApplication.start(KafkaTestSupport.bootstrapServers(),
						prefix, List.of(BraveTracing.Beans.class, Listener.class), "test.topic=" + topic,
						"reliable.kafka.delay.tiers=1s", "spring.kafka.consumer.auto-offset-reset=earliest",
						// no send observation: only the library's own injection can carry the context into the tier
						"spring.kafka.template.observation-enabled=false",
						"spring.kafka.listener.observation-enabled=true")) {
			DelayedDeliveryTests.awaitTierLeaders(context);
			ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
			Span request = tracing.tracer().nextSpan().name("POST /reminders").start();
			String requestTraceId = request.context().traceId();
			try (Tracer.SpanInScope scope = tracing.tracer().withSpan(request)) {
				template.sendDelayed(topic, "k-1", "delayed", Duration.ofSeconds(1)).get();
			}
			finally {
				request.end();
			}
			template.sendDelayed(topic, "k-2", "untraced", Duration.ofSeconds(1)).get(); // sent outside any span
			await().atMost(Duration.ofSeconds(30))
				.until(() -> traceIdByPayload.keySet().containsAll(List.of("delayed", "untraced")));
			Map<String, Long> spansByName = tracing.spansByName(requestTraceId);
			System.out.printf("request trace %s; trace ids seen: %s; finished spans: %s%n", requestTraceId,
					new TreeMap<>(traceIdByPayload), spansByName);
			assertThat(traceIdByPayload.get("delayed")).as("the delayed message's listener span")
				.isEqualTo(requestTraceId);
			assertThat(traceIdByPayload.get("untraced")).as("a message sent outside any span joins no trace")
				.isNotEqualTo(requestTraceId);
			assertThat(spansByName).containsKey("delay forward (request's trace)");
		}
		finally {
			traceIdByPayload.clear();
		}
	}

	static class Listener {

		@ReliableListener(id = "traced-delayed", topics = "${test.topic}", groupId = "${test.topic}")
		void on(ConsumerRecord<String, byte[]> record) {
			Span current = BraveTracing.current().tracer().currentSpan();
			traceIdByPayload.put(new String(record.value(), StandardCharsets.UTF_8),
					(current != null) ? current.context().traceId() : "no span");
		}

	}

}
