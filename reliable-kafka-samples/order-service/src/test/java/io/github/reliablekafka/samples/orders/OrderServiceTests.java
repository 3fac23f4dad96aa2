package io.github.reliablekafka.samples.orders;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.test.AutoConfigureReliableKafkaTest;
import io.github.reliablekafka.test.ReliableKafkaAwait;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How an application tests itself with {@code reliable-kafka-test}: a plain {@code @SpringBootTest} of the order
 * service with {@link AutoConfigureReliableKafkaTest} (Kafka is an in-JVM broker, the database the service's own H2),
 * and {@link ReliableKafkaAwait} instead of sleeps.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "orders.payment-timeout=10s", "spring.kafka.consumer.auto-offset-reset=earliest" })
@AutoConfigureReliableKafkaTest
class OrderServiceTests {

	@Autowired
	private OrderService service;

	@Autowired
	private OrderStore orders;

	@Autowired
	private EventJournal journal;

	@Autowired
	private ReliableKafkaTemplate kafka;

	@Autowired
	private ReliableKafkaAwait await;

	@Autowired
	private KafkaConnectionDetails kafkaConnection;

	@Autowired
	private JdbcTemplate jdbc;

	@LocalServerPort
	private int port;

	@Test
	void aPlacedOrderIsAnnouncedAndAnUnpaidOneIsCancelledWhenItsDeadlineComes() throws Exception {
		String unpaid = this.service.place("customer-1", 4_200);
		String paid = this.service.place("customer-2", 990);
		this.await.outboxDrained(); // the two OrderCreated messages; the deadlines are not due yet
		this.await.handled("order-notifications", 2);
		assertThat(this.journal.createdCount()).isEqualTo(2);

		this.kafka.sendAndWait(Events.ORDER_EVENTS, paid, new Events.OrderEvent(paid, "PAID"));
		this.await.handled(OrderListeners.EVENTS_LISTENER, 1);
		assertThat(this.orders.find(paid).orElseThrow().status()).isEqualTo("PAID");

		// due 10 s after the orders: time enough for the payment's listener to join its group and apply it first
		this.await.handled("payment-deadlines", 2, Duration.ofSeconds(40));
		assertThat(this.orders.find(unpaid).orElseThrow().status()).isEqualTo("CANCELLED");
		assertThat(this.orders.find(paid).orElseThrow().status()).as("paid in time").isEqualTo("PAID");

		// an operator asks where the unpaid order's OrderCreated message is: sent, and consumed by its group
		String messageId = this.jdbc.queryForObject("SELECT message_id FROM rk_outbox WHERE topic = ? AND message_key = ?",
				String.class, Events.ORDERS, unpaid);
		HttpResponse<String> trail = http("GET", "/actuator/reliablekafka/" + messageId);
		System.out.println("GET /actuator/reliablekafka/" + messageId + " -> " + trail.statusCode() + " " + trail.body());
		assertThat(trail.statusCode()).isEqualTo(200);
		assertThat(trail.body()).contains("\"status\":\"SENT\"", "\"group\":\"order-notifications\"",
				"\"state\":\"DONE\"");
		// the position it reports is where Kafka wrote the message: read it back from there
		Matcher position = Pattern.compile("\"sentPartition\":(\\d+),\"sentOffset\":(\\d+)").matcher(trail.body());
		assertThat(position.find()).as("a sent row reports its partition and offset").isTrue();
		ConsumerRecord<String, byte[]> written = readAt(
				new TopicPartition(Events.ORDERS, Integer.parseInt(position.group(1))), Long.parseLong(position.group(2)));
		assertThat(written.key()).isEqualTo(unpaid);
		assertThat(new String(written.headers().lastHeader("rk-id").value(), StandardCharsets.UTF_8)).isEqualTo(messageId);
		assertThat(http("GET", "/actuator/reliablekafka/not-an-id").statusCode()).isEqualTo(400);
		assertThat(http("POST", "/actuator/reliablekafka/" + messageId).statusCode())
			.as("re-queue is a write operation, off by default").isGreaterThanOrEqualTo(400);
	}

	private ConsumerRecord<String, byte[]> readAt(TopicPartition partition, long offset) {
		Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
				String.join(",", this.kafkaConnection.getBootstrapServers()));
		try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
				new ByteArrayDeserializer())) {
			consumer.assign(List.of(partition));
			consumer.seek(partition, offset);
			long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
			while (System.nanoTime() < deadline) {
				for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
					if (record.offset() == offset) {
						return record;
					}
				}
			}
		}
		throw new AssertionError("no record at " + partition + "@" + offset);
	}

	private HttpResponse<String> http(String method, String path) throws Exception {
		return HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
				.method(method, HttpRequest.BodyPublishers.noBody())
				.build(), HttpResponse.BodyHandlers.ofString());
	}

}
