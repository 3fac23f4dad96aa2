package io.github.reliablekafka.test;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import io.github.reliablekafka.outbox.OutboxMessage;
import io.github.reliablekafka.outbox.OutboxOperations;
import org.jspecify.annotations.Nullable;

/**
 * Waits, in a test, for what reliable-kafka does in the background: the outbox drained, a listener's records
 * handled. Each wait polls every 50 ms and fails with an {@link AssertionError} that says what it saw when the time
 * is up (30 s unless given), or at once when it can never succeed (a {@code FAILED} outbox row).
 */
public final class ReliableKafkaAwait {

	/** How long a wait lasts unless given. */
	public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

	private final @Nullable OutboxOperations outbox;

	private final @Nullable ListenerCounts counts;

	/**
	 * Create the waits.
	 * @param outbox the outbox, {@code null} when the application has none
	 * @param counts the listener counts, {@code null} when the application replaced them with its own
	 * {@code ListenerOutcomes}
	 */
	public ReliableKafkaAwait(@Nullable OutboxOperations outbox, @Nullable ListenerCounts counts) {
		this.outbox = outbox;
		this.counts = counts;
	}

	/**
	 * Wait until every outbox row that is due is confirmed by Kafka ({@code SENT}), for at most 30 s.
	 * @throws AssertionError when due rows are still pending when the time is up, or a row is {@code FAILED}
	 */
	public void outboxDrained() {
		outboxDrained(DEFAULT_TIMEOUT);
	}

	/**
	 * Wait until every outbox row that is due is confirmed by Kafka ({@code SENT}). A delayed message does not count
	 * until its due time; {@code outboxDrained} after its due time waits for it too.
	 * @param timeout how long to wait
	 * @throws AssertionError when rows are still pending when the time is up, or a row is {@code FAILED} (it would
	 * never be sent without an operator)
	 */
	public void outboxDrained(Duration timeout) {
		OutboxOperations operations = this.outbox;
		if (operations == null) {
			throw new AssertionError("This application has no outbox (it needs a single DataSource and "
					+ "reliable.kafka.outbox.enabled=true)");
		}
		until(() -> {
			List<OutboxMessage> failed = operations.failed(10);
			if (!failed.isEmpty()) {
				throw new AssertionError("The outbox will not drain: " + failed.size() + " row(s) FAILED, first "
						+ failed.get(0));
			}
			return operations.dueCount() == 0;
		}, timeout, () -> "The outbox did not drain within " + timeout + ": " + operations.dueCount()
				+ " due row(s) still pending, the oldest waiting " + operations.oldestPendingAge());
	}

	/**
	 * Wait until a listener has handled at least {@code count} records successfully, for at most 30 s.
	 * @param listener the listener id ({@code @ReliableListener(id = ...)})
	 * @param count how many
	 * @throws AssertionError when fewer were handled when the time is up
	 */
	public void handled(String listener, long count) {
		handled(listener, count, DEFAULT_TIMEOUT);
	}

	/**
	 * Wait until a listener has handled at least {@code count} records successfully (duplicates the idempotency
	 * guard skipped count as handled: their effect is there).
	 * @param listener the listener id ({@code @ReliableListener(id = ...)})
	 * @param count how many
	 * @param timeout how long to wait
	 * @throws AssertionError when fewer were handled when the time is up
	 */
	public void handled(String listener, long count, Duration timeout) {
		ListenerCounts listenerCounts = counts();
		until(() -> listenerCounts.count(listener, "success") >= count, timeout,
				() -> "Listener '" + listener + "' handled " + listenerCounts.count(listener, "success") + " of " + count
						+ " record(s) within " + timeout + "; outcomes so far, per listener: " + listenerCounts.counts());
	}

	/**
	 * Wait until a listener has sent at least {@code count} records to its dead-letter topic, for at most 30 s.
	 * @param listener the listener id
	 * @param count how many
	 * @throws AssertionError when fewer were dead-lettered when the time is up
	 */
	public void deadLettered(String listener, long count) {
		ListenerCounts listenerCounts = counts();
		until(() -> listenerCounts.count(listener, "dead-lettered") >= count, DEFAULT_TIMEOUT,
				() -> "Listener '" + listener + "' dead-lettered " + listenerCounts.count(listener, "dead-lettered")
						+ " of " + count + " record(s) within " + DEFAULT_TIMEOUT + "; outcomes so far, per listener: "
						+ listenerCounts.counts());
	}

	/**
	 * Return the counts of each listener's outcomes.
	 * @return the counts
	 * @throws AssertionError when the application replaced them with its own {@code ListenerOutcomes} bean
	 */
	public ListenerCounts counts() {
		if (this.counts == null) {
			throw new AssertionError("Listener outcomes are not counted: the application has its own ListenerOutcomes "
					+ "bean. Wrap it in a ListenerCounts bean (new ListenerCounts(yours)) to wait on listeners.");
		}
		return this.counts;
	}

	private static void until(BooleanSupplier done, Duration timeout, Supplier<String> failure) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!done.getAsBoolean()) {
			if (System.nanoTime() - deadline > 0) {
				throw new AssertionError(failure.get());
			}
			try {
				Thread.sleep(50);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AssertionError("Interrupted while waiting", ex);
			}
		}
	}

}
