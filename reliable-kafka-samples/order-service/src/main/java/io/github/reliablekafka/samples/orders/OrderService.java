package io.github.reliablekafka.samples.orders;

import java.time.Duration;
import java.util.UUID;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.samples.orders.Events.OrderCreated;
import io.github.reliablekafka.samples.orders.Events.PaymentDeadline;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Places orders: the order row, its {@code OrderCreated} message and its payment deadline are one database
 * transaction (the outbox), so either all of them happen or none.
 */
@Service
class OrderService {

	private final OrderStore orders;

	private final ReliableKafkaTemplate kafka;

	private final Duration paymentTimeout;

	OrderService(OrderStore orders, ReliableKafkaTemplate kafka,
			@Value("${orders.payment-timeout:30m}") Duration paymentTimeout) {
		this.orders = orders;
		this.kafka = kafka;
		this.paymentTimeout = paymentTimeout;
	}

	@Transactional
	String place(String customerId, long amount) {
		String id = "order-" + UUID.randomUUID();
		this.orders.insert(id, customerId, amount);
		this.kafka.send(Events.ORDERS, id, new OrderCreated(id, customerId, amount));
		this.kafka.sendDelayed(Events.ORDER_TIMEOUTS, id, new PaymentDeadline(id), this.paymentTimeout);
		return id;
	}

}
