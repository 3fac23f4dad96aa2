package io.github.reliablekafka.samples.orders;

import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.samples.orders.Events.OrderCreated;
import io.github.reliablekafka.samples.orders.Events.OrderEvent;
import io.github.reliablekafka.samples.orders.Events.PaymentDeadline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

/**
 * The service's reliable listeners. Each runs inside the idempotency guard (two-tier when Redis is there, the
 * database ledger otherwise), committed with its own database work.
 */
@Component
class OrderListeners {

	static final String EVENTS_LISTENER = "order-events";

	private static final Logger logger = LoggerFactory.getLogger(OrderListeners.class);

	private final OrderStore orders;

	private final EventJournal journal;

	OrderListeners(OrderStore orders, EventJournal journal) {
		this.orders = orders;
		this.journal = journal;
	}

	/**
	 * Payment and shipping events, in order per order id (many orders at once on key lanes), once per order id and
	 * status (a business key): a payment sent twice is applied once.
	 */
	@ReliableListener(id = EVENTS_LISTENER, topics = Events.ORDER_EVENTS, groupId = "order-service",
			ordering = Ordering.KEY, idempotencyKey = "{#payload.orderId, #payload.status}")
	@Transactional
	void onEvent(OrderEvent event) {
		boolean applied = switch (event.status()) {
			case "PAID" -> this.orders.transition(event.orderId(), "CREATED", "PAID");
			case "SHIPPED" -> this.orders.transition(event.orderId(), "PAID", "SHIPPED");
			default -> throw new IllegalArgumentException("Unknown status " + event.status());
		};
		this.journal.applied(event.orderId(), event.status());
		if (!applied) {
			logger.warn("Event {} does not apply to order {} in its current state", event.status(), event.orderId());
		}
	}

	/** New orders, e.g. to notify the customer. */
	@ReliableListener(id = "order-notifications", topics = Events.ORDERS, groupId = "order-notifications")
	void onCreated(OrderCreated created) {
		this.journal.created(created.orderId());
	}

	/** An order not paid in time is cancelled. */
	@ReliableListener(id = "payment-deadlines", topics = Events.ORDER_TIMEOUTS, groupId = "order-service")
	@Transactional
	void onDeadline(PaymentDeadline deadline) {
		this.journal.deadline();
		if (this.orders.transition(deadline.orderId(), "CREATED", "CANCELLED")) {
			this.journal.cancelled(deadline.orderId());
		}
	}

}
