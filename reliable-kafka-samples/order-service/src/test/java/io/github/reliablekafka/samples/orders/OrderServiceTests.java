package io.github.reliablekafka.samples.orders;

import java.time.Duration;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.test.AutoConfigureReliableKafkaTest;
import io.github.reliablekafka.test.ReliableKafkaAwait;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How an application tests itself with {@code reliable-kafka-test}: a plain {@code @SpringBootTest} of the order
 * service with {@link AutoConfigureReliableKafkaTest} (Kafka is an in-JVM broker, the database the service's own H2),
 * and {@link ReliableKafkaAwait} instead of sleeps.
 */
@SpringBootTest(properties = { "orders.payment-timeout=2s", "spring.kafka.consumer.auto-offset-reset=earliest" })
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

	@Test
	void aPlacedOrderIsAnnouncedAndAnUnpaidOneIsCancelledWhenItsDeadlineComes() {
		String unpaid = this.service.place("customer-1", 4_200);
		String paid = this.service.place("customer-2", 990);
		this.await.outboxDrained(); // the two OrderCreated messages; the deadlines are not due yet
		this.await.handled("order-notifications", 2);
		assertThat(this.journal.createdCount()).isEqualTo(2);

		this.kafka.sendAndWait(Events.ORDER_EVENTS, paid, new Events.OrderEvent(paid, "PAID"));
		this.await.handled(OrderListeners.EVENTS_LISTENER, 1);
		assertThat(this.orders.find(paid).orElseThrow().status()).isEqualTo("PAID");

		this.await.handled("payment-deadlines", 2, Duration.ofSeconds(30)); // due after 2 s
		assertThat(this.orders.find(unpaid).orElseThrow().status()).isEqualTo("CANCELLED");
		assertThat(this.orders.find(paid).orElseThrow().status()).as("paid in time").isEqualTo("PAID");
	}

}
