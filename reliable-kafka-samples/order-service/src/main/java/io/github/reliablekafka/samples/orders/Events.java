package io.github.reliablekafka.samples.orders;

/**
 * The service's messages. Topics: {@value #ORDERS} carries {@link OrderCreated}; {@value #ORDER_EVENTS} carries
 * payment and shipping events ({@link OrderEvent}, keyed by order id); {@value #ORDER_TIMEOUTS} carries
 * {@link PaymentDeadline}, sent delayed when an order is placed.
 */
final class Events {

	static final String ORDERS = "orders";

	static final String ORDER_EVENTS = "order-events";

	static final String ORDER_TIMEOUTS = "order-timeouts";

	private Events() {
	}

	/** An order was placed. */
	record OrderCreated(String orderId, String customerId, long amount) {
	}

	/** A payment ({@code PAID}) or shipping ({@code SHIPPED}) event of an order. */
	record OrderEvent(String orderId, String status) {
	}

	/** The time an order had to be paid has passed. */
	record PaymentDeadline(String orderId) {
	}

}
