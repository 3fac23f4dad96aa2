package io.github.reliablekafka.samples.orders;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import io.github.reliablekafka.test.AutoConfigureReliableKafkaTest;
import io.github.reliablekafka.test.ReliableKafkaAwait;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.micrometer.tracing.test.autoconfigure.AutoConfigureTracing;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One trace from a real HTTP request to the listeners: {@code POST /orders} (Spring MVC's server observation, Brave
 * through Spring Boot's tracing auto-configuration) places an order in a transaction through the outbox; the relay
 * publishes the {@code OrderCreated} message later, on its own thread; the {@code order-notifications} listener
 * handles it, and the payment deadline, sent with {@code sendDelayed} in the same transaction, is published when due
 * and handled by {@code payment-deadlines}. Every span on the message's path (request, relay, sends, listeners) is in
 * the request's trace.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "orders.payment-timeout=1s", "spring.kafka.consumer.auto-offset-reset=earliest",
				"management.tracing.sampling.probability=1.0", "spring.kafka.template.observation-enabled=true",
				"spring.kafka.listener.observation-enabled=true" })
@AutoConfigureReliableKafkaTest
@AutoConfigureTracing
class OrderTracingTests {

	@LocalServerPort
	private int port;

	@Autowired
	private ReliableKafkaAwait await;

	@Autowired
	private Spans spans;

	@Test
	void anOrderPlacedOverHttpIsOneTraceThroughTheOutboxToItsListeners() throws Exception {
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + "/orders"))
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString("{\"customerId\":\"c-1\",\"amount\":4200}"))
				.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(201);
		this.await.handled("order-notifications", 1);
		this.await.handled("payment-deadlines", 1, Duration.ofSeconds(30));
		// the listeners' spans end just after their records are handled
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (!this.spans.names().containsAll(List.of("orders process", "order-timeouts process"))
				&& System.nanoTime() < deadline) {
			Thread.sleep(50);
		}
		MutableSpan request = this.spans.finished.stream()
			.filter((span) -> "http post /orders".equalsIgnoreCase(span.name()))
			.findFirst()
			.orElseThrow(() -> new AssertionError("no span of the HTTP request among " + this.spans.names()));
		Map<String, Long> byTrace = new TreeMap<>();
		this.spans.finished.forEach((span) -> byTrace.merge(span.name() + (request.traceId().equals(span.traceId())
				? "" : " (another trace)"), 1L, Long::sum));
		// the message's path: the request, the relay's publishes, every send and every listener; Redis commands of
		// the guard's background writes (no record's context there) are not on it
		List<MutableSpan> elsewhere = this.spans.finished.stream()
			.filter((span) -> span.name() != null && (span.name().startsWith("http ") || span.name().endsWith(" send")
					|| span.name().endsWith(" process") || span.name().equals("outbox publish")))
			.filter((span) -> !request.traceId().equals(span.traceId()))
			.toList();
		System.out.printf("request trace %s: %d span(s), %d on the message's path in another trace: %s%n",
				request.traceId(),
				this.spans.finished.size(), elsewhere.size(), byTrace);
		assertThat(byTrace).containsKeys("http post /orders", "outbox publish", "orders send", "orders process",
				"order-timeouts send", "order-timeouts process");
		assertThat(elsewhere).isEmpty();
	}

	@TestConfiguration(proxyBeanMethods = false)
	static class SpanCollection {

		@Bean
		Spans spans() {
			return new Spans();
		}

	}

	/** Every span Brave finishes. */
	static final class Spans extends SpanHandler {

		final List<MutableSpan> finished = new CopyOnWriteArrayList<>();

		@Override
		public boolean end(TraceContext context, MutableSpan span, Cause cause) {
			this.finished.add(span);
			return true;
		}

		List<String> names() {
			return this.finished.stream().map(MutableSpan::name).toList();
		}

	}

}
