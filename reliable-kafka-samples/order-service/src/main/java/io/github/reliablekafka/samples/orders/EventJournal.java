package io.github.reliablekafka.samples.orders;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.stereotype.Component;

/**
 * What the listeners did, for the demo's report: the events applied to each order in the order they were applied,
 * the orders whose creation was seen, the orders cancelled.
 */
@Component
class EventJournal {

	private final Map<String, List<String>> applied = new ConcurrentHashMap<>();

	private final Set<String> created = ConcurrentHashMap.newKeySet();

	private final Set<String> cancelled = ConcurrentHashMap.newKeySet();

	private final AtomicInteger deadlines = new AtomicInteger();

	void applied(String orderId, String status) {
		this.applied.computeIfAbsent(orderId, (id) -> new CopyOnWriteArrayList<>()).add(status);
	}

	void created(String orderId) {
		this.created.add(orderId);
	}

	void deadline() {
		this.deadlines.incrementAndGet();
	}

	int deadlineCount() {
		return this.deadlines.get();
	}

	void cancelled(String orderId) {
		this.cancelled.add(orderId);
	}

	List<String> appliedTo(String orderId) {
		return this.applied.getOrDefault(orderId, List.of());
	}

	boolean wasCreated(String orderId) {
		return this.created.contains(orderId);
	}

	int createdCount() {
		return this.created.size();
	}

	int cancelledCount() {
		return this.cancelled.size();
	}

	long appliedCount() {
		return this.applied.values().stream().mapToLong(List::size).sum();
	}

}
