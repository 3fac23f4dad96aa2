package io.github.reliablekafka.idempotency;

import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.idempotency.IdempotencyTestApplication.Effects;

import org.springframework.context.annotation.Bean;

/**
 * A listener whose idempotency key is the order id and status, added to {@link IdempotencyTestApplication} only when a
 * test asks for it (a top-level class: a nested class with {@code @Bean} methods would always be imported).
 */
class OrderListeners {

	@Bean
	OrderListener orderListener(Effects effects) {
		return new OrderListener(effects);
	}

	record OrderEvent(String orderId, String status, long amount) {
	}

	static final class OrderListener {

		private final Effects effects;

		OrderListener(Effects effects) {
			this.effects = effects;
		}

		@ReliableListener(id = "orders", topics = "${test.orders-topic}", groupId = "${test.group}",
				idempotencyKey = "{#payload.orderId, #payload.status}")
		void on(OrderEvent event) {
			this.effects.write(event.orderId() + ":" + event.status() + ":" + event.amount(), "order");
		}

	}

}
