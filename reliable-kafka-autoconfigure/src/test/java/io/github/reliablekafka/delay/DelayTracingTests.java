package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import brave.sampler.Sampler;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.propagation.Propagator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

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
		List<MutableSpan> finished = new CopyOnWriteArrayList<>();
		String prefix = "rk-delay-" + UUID.randomUUID().toString().substring(0, 8) + "-";
		try (Tracing tracing = Tracing.newBuilder()
			.localServiceName("delay-tracing-test")
			.sampler(Sampler.ALWAYS_SAMPLE)
			.addSpanHandler(new SpanHandler() {
				@Override
				public boolean end(TraceContext context, MutableSpan span, Cause cause) {
					finished.add(span);
					return true;
				}
			})
			.build()) {
			Traced.tracer = new BraveTracer(tracing.tracer(),
					new BraveCurrentTraceContext(tracing.currentTraceContext()), new BraveBaggageManager());
			Traced.propagator = new BravePropagator(tracing);
			try (ConfigurableApplicationContext context = DelayTestApplication.start(KafkaTestSupport.bootstrapServers(),
					prefix, List.of(Traced.class), "test.topic=" + topic, "reliable.kafka.delay.tiers=1s",
					"spring.kafka.consumer.auto-offset-reset=earliest",
					// no send observation: only the library's own injection can carry the context into the tier
					"spring.kafka.template.observation-enabled=false",
					"spring.kafka.listener.observation-enabled=true")) {
				DelayedDeliveryTests.awaitTierLeaders(context);
				ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
				Span request = Traced.tracer.nextSpan().name("POST /reminders").start();
				String requestTraceId = request.context().traceId();
				try (Tracer.SpanInScope scope = Traced.tracer.withSpan(request)) {
					template.sendDelayed(topic, "k-1", "delayed", Duration.ofSeconds(1)).get();
				}
				finally {
					request.end();
				}
				template.sendDelayed(topic, "k-2", "untraced", Duration.ofSeconds(1)).get(); // sent outside any span
				await().atMost(Duration.ofSeconds(30))
					.until(() -> traceIdByPayload.keySet().containsAll(List.of("delayed", "untraced")));
				Map<String, Long> spansByName = new TreeMap<>();
				finished.forEach((span) -> spansByName.merge(span.name() + " (" + (requestTraceId.equals(span.traceId())
						? "request's trace" : "other trace") + ")", 1L, Long::sum));
				System.out.printf("request trace %s; trace ids seen: %s; finished spans: %s%n", requestTraceId,
						new TreeMap<>(traceIdByPayload), spansByName);
				assertThat(traceIdByPayload.get("delayed")).as("the delayed message's listener span")
					.isEqualTo(requestTraceId);
				assertThat(traceIdByPayload.get("untraced")).as("a message sent outside any span joins no trace")
					.isNotEqualTo(requestTraceId);
				assertThat(spansByName).containsKey("delay forward (request's trace)");
			}
		}
		finally {
			traceIdByPayload.clear();
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class Traced {

		static Tracer tracer;

		static Propagator propagator;

		@Bean
		Tracer tracer() {
			return tracer;
		}

		@Bean
		Propagator propagator() {
			return propagator;
		}

		@Bean
		ObservationRegistry observationRegistry() {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig()
				.observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
						new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
						new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
						new DefaultTracingObservationHandler(tracer)));
			return registry;
		}

		@Bean
		Listener listener() {
			return new Listener();
		}

	}

	static class Listener {

		@ReliableListener(id = "traced-delayed", topics = "${test.topic}", groupId = "${test.topic}")
		void on(ConsumerRecord<String, byte[]> record) {
			Span current = Traced.tracer.currentSpan();
			traceIdByPayload.put(new String(record.value(), java.nio.charset.StandardCharsets.UTF_8),
					(current != null) ? current.context().traceId() : "no span");
		}

	}

}
