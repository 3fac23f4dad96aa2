package io.github.reliablekafka.samples.orders;

import java.net.URI;

import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /orders} places an order; {@code GET /orders/{id}} shows it.
 */
@RestController
class OrderController {

	private final OrderService service;

	private final OrderStore orders;

	OrderController(OrderService service, OrderStore orders) {
		this.service = service;
		this.orders = orders;
	}

	@PostMapping("/orders")
	ResponseEntity<OrderStore.Order> place(@RequestBody NewOrder order) {
		if (order.customerId() == null || order.customerId().isBlank() || order.amount() <= 0) {
			return ResponseEntity.badRequest().build();
		}
		String id = this.service.place(order.customerId(), order.amount());
		return ResponseEntity.created(URI.create("/orders/" + id)).body(this.orders.find(id).orElseThrow());
	}

	@GetMapping("/orders/{id}")
	ResponseEntity<OrderStore.Order> find(@PathVariable String id) {
		return ResponseEntity.of(this.orders.find(id));
	}

	record NewOrder(String customerId, long amount) {
	}

}
