package io.github.reliablekafka.samples.orders;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The {@code orders} table. Every change is a guarded state transition: an event that does not apply to the
 * order's current status changes nothing.
 */
@Repository
class OrderStore {

	private final JdbcClient jdbc;

	OrderStore(JdbcClient jdbc) {
		this.jdbc = jdbc;
	}

	void insert(String id, String customerId, long amount) {
		this.jdbc.sql("INSERT INTO orders (id, customer_id, amount, status) VALUES (?, ?, ?, 'CREATED')")
			.params(id, customerId, amount)
			.update();
	}

	Optional<Order> find(String id) {
		return this.jdbc.sql("SELECT id, customer_id, amount, status FROM orders WHERE id = ?")
			.param(id)
			.query(Order.class)
			.optional();
	}

	/**
	 * Move an order from one status to another.
	 * @return whether it was in {@code from}
	 */
	boolean transition(String id, String from, String to) {
		return this.jdbc.sql("UPDATE orders SET status = ? WHERE id = ? AND status = ?").params(to, id, from).update() == 1;
	}

	Map<String, String> statuses() {
		Map<String, String> statuses = new HashMap<>();
		this.jdbc.sql("SELECT id, status FROM orders").query((rs) -> {
			statuses.put(rs.getString(1), rs.getString(2));
		});
		return statuses;
	}

	Map<String, Long> countByStatus() {
		Map<String, Long> counts = new TreeMap<>();
		this.jdbc.sql("SELECT status, COUNT(*) FROM orders GROUP BY status")
			.query((rs) -> {
				counts.put(rs.getString(1), rs.getLong(2));
			});
		return counts;
	}

	record Order(String id, String customerId, long amount, String status) {
	}

}
