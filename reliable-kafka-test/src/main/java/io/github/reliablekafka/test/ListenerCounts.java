package io.github.reliablekafka.test;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.github.reliablekafka.consumer.GroupType;
import io.github.reliablekafka.consumer.ListenerOutcomes;

/**
 * Counts what happened to each reliable listener's records ({@code success}, {@code retried},
 * {@code dead-lettered}, {@code skipped}), for {@link ReliableKafkaAwait}; every outcome is passed on to the
 * outcomes the application would have had otherwise (the library's meters when a {@code MeterRegistry} exists).
 */
public final class ListenerCounts implements ListenerOutcomes {

	private final Map<String, Map<String, AtomicLong>> counts = new ConcurrentHashMap<>();

	private final ListenerOutcomes next;

	/**
	 * Count, and pass every outcome on.
	 * @param next the outcomes to pass on to, {@link ListenerOutcomes#NONE} for none
	 */
	public ListenerCounts(ListenerOutcomes next) {
		this.next = next;
	}

	@Override
	public void record(String listener, String result) {
		add(listener, result);
		this.next.record(listener, result);
	}

	@Override
	public void record(String listener, GroupType group, String result) {
		add(listener, result);
		this.next.record(listener, group, result);
	}

	private void add(String listener, String result) {
		this.counts.computeIfAbsent(listener, (name) -> new ConcurrentHashMap<>())
			.computeIfAbsent(result, (name) -> new AtomicLong())
			.incrementAndGet();
	}

	/**
	 * Return how many records of a listener reached an outcome.
	 * @param listener the listener id
	 * @param result {@code success}, {@code retried}, {@code dead-lettered} or {@code skipped}
	 * @return the count so far
	 */
	public long count(String listener, String result) {
		Map<String, AtomicLong> results = this.counts.get(listener);
		AtomicLong count = (results != null) ? results.get(result) : null;
		return (count != null) ? count.get() : 0;
	}

	/**
	 * Return every count so far, per listener and outcome.
	 * @return the counts, sorted
	 */
	public Map<String, Map<String, Long>> counts() {
		Map<String, Map<String, Long>> all = new TreeMap<>();
		this.counts.forEach((listener, results) -> {
			Map<String, Long> each = new TreeMap<>();
			results.forEach((result, count) -> each.put(result, count.get()));
			all.put(listener, each);
		});
		return all;
	}

}
