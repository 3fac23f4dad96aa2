package io.github.reliablekafka.outbox;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

import io.github.reliablekafka.support.KafkaErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's database work that need not hold up its sending: claims run one at a time on {@code rk-outbox-claims},
 * in the order the relay thread asked for them, and their results come back through the relay's event queue in that
 * order; marks of confirmed rows run on {@code rk-outbox-marks}, alongside the claims (they touch only rows this
 * instance leased and Kafka confirmed, which no claim takes). One instance per start of the relay.
 */
final class RelayBookkeeping {

	private static final Logger logger = LoggerFactory.getLogger(RelayBookkeeping.class);

	private final OutboxStore store;

	private final String owner;

	private final RelayQueue events;

	private final ExecutorService claims = daemonExecutor("rk-outbox-claims");

	private final ExecutorService marks = daemonExecutor("rk-outbox-marks");

	RelayBookkeeping(OutboxStore store, String owner, RelayQueue events) {
		this.store = store;
		this.owner = owner;
		this.events = events;
	}

	/**
	 * Run a claim on the claims thread; its result, or what {@code failed} makes of its failure (or of a refusal once
	 * stopping), goes to the relay's events.
	 */
	<T> void claim(Supplier<T> claim, Function<RuntimeException, T> failed) {
		try {
			this.claims.execute(() -> {
				T result;
				try {
					result = claim.get();
				}
				catch (RuntimeException ex) {
					result = failed.apply(ex);
				}
				this.events.urgent(result);
			});
		}
		catch (RejectedExecutionException ex) {
			this.events.urgent(failed.apply(new IllegalStateException("the outbox relay is stopping")));
		}
	}

	/** Mark confirmed rows sent, on the marks thread (on the caller's once stopping). */
	void mark(List<Long> ids) {
		try {
			this.marks.execute(() -> markSent(ids));
		}
		catch (RejectedExecutionException ex) {
			markSent(ids);
		}
	}

	private void markSent(List<Long> ids) {
		try {
			doMarkSent(ids);
		}
		finally {
			this.events.lazy(new Marked(ids));
		}
	}

	private void doMarkSent(List<Long> ids) {
		try {
			int marked = this.store.markSent(this.owner, ids, System.currentTimeMillis());
			if (marked < ids.size()) {
				logger.warn("{} of {} confirmed outbox rows were no longer leased to this relay (their lease ran out "
						+ "and another instance claimed them): they may be published twice, never lost",
						ids.size() - marked, ids.size());
			}
		}
		catch (RuntimeException ex) {
			logger.warn("Could not mark {} confirmed outbox rows sent; they stay leased to this relay until their lease "
					+ "runs out and are then published again (duplicates, never losses): {}", ids.size(),
					KafkaErrors.describe(ex));
		}
	}

	/** Let the claims and marks asked for run to their end, waiting at most until {@code deadline} plus 5 s. */
	void shutdown(long deadline) throws InterruptedException {
		for (ExecutorService executor : List.of(this.claims, this.marks)) {
			executor.shutdown();
			if (!executor.awaitTermination(Math.max(1, deadline - System.currentTimeMillis()) + 5_000,
					TimeUnit.MILLISECONDS)) {
				executor.shutdownNow();
			}
		}
	}

	/**
	 * Rows whose mark was written (or could not be: they stay leased until their lease runs out).
	 * @param ids the rows
	 */
	record Marked(List<Long> ids) {
	}

	private static ExecutorService daemonExecutor(String name) {
		return Executors.newSingleThreadExecutor((task) -> {
			Thread thread = new Thread(task, name);
			thread.setDaemon(true);
			return thread;
		});
	}

}
