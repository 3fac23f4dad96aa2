package io.github.reliablekafka.outbox;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

import io.github.reliablekafka.internal.KafkaErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * Every database statement of the relay, off the relay thread, so that sending never waits for the database. Claims,
 * admissions, retry and failure marks, releases and lease renewals run one at a time on {@code rk-outbox-claims}, in
 * the order the relay thread asked for them (a release asked for before a claim is in the table when the claim runs),
 * and their results come back through the relay's event queue in that order. Marks of confirmed rows run on
 * {@code rk-outbox-marks}, alongside (they touch only rows this instance leased and Kafka confirmed, which no claim
 * takes), and housekeeping (which touches confirmed rows only) on {@code rk-outbox-housekeeping}, so that neither
 * holds up an admission. Once stopping, what is asked for runs on
 * the caller's thread. One instance per start of the relay.
 */
final class RelayBookkeeping {

	private static final Logger logger = LoggerFactory.getLogger(RelayBookkeeping.class);

	private final OutboxStore store;

	private final String owner;

	private final RelayQueue events;

	private final ThreadPoolTaskExecutor claims = oneThread("rk-outbox-claims");

	private final ThreadPoolTaskExecutor marks = oneThread("rk-outbox-marks");

	private final ThreadPoolTaskExecutor housekeeping = oneThread("rk-outbox-housekeeping");

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

	/**
	 * Run a write on the claims thread, after everything asked for before it; a failure reaches the relay's events as
	 * {@link RelayEvents.WriteFailed}.
	 * @param what what the write does, for the failure's report
	 * @param write the write
	 */
	void write(String what, Runnable write) {
		Runnable task = () -> {
			try {
				write.run();
			}
			catch (RuntimeException ex) {
				this.events.urgent(new RelayEvents.WriteFailed(what, ex));
			}
		};
		try {
			this.claims.execute(task);
		}
		catch (RejectedExecutionException stopping) {
			try {
				write.run();
			}
			catch (RuntimeException ex) {
				logger.warn("Outbox relay could not {} while stopping; those rows' leases run out on their own: {}",
						what, KafkaErrors.describe(ex));
			}
		}
	}

	/** Give leased rows back without an attempt. */
	void release(List<Long> ids) {
		if (!ids.isEmpty()) {
			write("give back " + ids.size() + " row(s)", () -> this.store.release(this.owner, ids));
		}
	}

	/** Give back rows this instance wrote under its writer lease and will not publish itself. */
	void releaseCommitted(List<String> messageIds) {
		if (!messageIds.isEmpty()) {
			write("give back " + messageIds.size() + " committed row(s)",
					() -> this.store.releaseCommitted(this.owner, messageIds));
		}
	}

	/**
	 * Extend every lease this instance holds that is still valid at {@code now} to {@code until}; the outcome reaches
	 * the relay's events as {@link RelayEvents.Renewed}, and only then does the relay count on the new end.
	 */
	void renew(long now, long until) {
		claim(() -> {
			this.store.renew(this.owner, now, until);
			return new RelayEvents.Renewed(now, until, null);
		}, (failure) -> new RelayEvents.Renewed(now, until, failure));
	}

	/**
	 * Run housekeeping (retention sweeps, look-ups of rows other instances published) on a thread of its own, so that
	 * it never holds up a claim, an admission or a mark.
	 * @param housekeeping the work; a failure reaches the relay's events as {@link RelayEvents.WriteFailed}
	 */
	void housekeeping(Runnable housekeeping) {
		Runnable task = () -> {
			try {
				housekeeping.run();
			}
			catch (RuntimeException ex) {
				this.events.urgent(new RelayEvents.WriteFailed("run housekeeping", ex));
			}
		};
		try {
			this.housekeeping.execute(task);
		}
		catch (RejectedExecutionException stopping) {
			// stopping: the next start sweeps
		}
	}

	/** Mark confirmed rows sent, on the marks thread (on the caller's once stopping). */
	void mark(List<OutboxStore.Sent> sent) {
		try {
			this.marks.execute(() -> markSent(sent));
		}
		catch (RejectedExecutionException ex) {
			markSent(sent);
		}
	}

	private void markSent(List<OutboxStore.Sent> sent) {
		try {
			doMarkSent(sent);
		}
		finally {
			this.events.lazy(new Marked(sent.stream().map(OutboxStore.Sent::id).toList()));
		}
	}

	private void doMarkSent(List<OutboxStore.Sent> ids) {
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
		for (ThreadPoolTaskExecutor each : List.of(this.claims, this.marks, this.housekeeping)) {
			ThreadPoolExecutor executor = each.getThreadPoolExecutor();
			executor.shutdown(); // the statements queued still run, up to the deadline
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

	private static ThreadPoolTaskExecutor oneThread(String name) {
		ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
		executor.setCorePoolSize(1);
		executor.setMaxPoolSize(1);
		executor.setThreadNamePrefix(name + "-");
		executor.setDaemon(true);
		executor.initialize();
		return executor;
	}

}
