package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.outbox.RelayEvents.Claimed;
import io.github.reliablekafka.outbox.RelayEvents.Committed;
import io.github.reliablekafka.outbox.RelayEvents.Outcome;
import io.github.reliablekafka.outbox.RelayEvents.Renewed;
import io.github.reliablekafka.outbox.RelayEvents.Scheduled;
import io.github.reliablekafka.outbox.RelayEvents.WriteFailed;
import io.github.reliablekafka.outbox.RelayLanes.Held;
import io.github.reliablekafka.producer.SendOutcomeListener;
import io.github.reliablekafka.support.RecordTracing;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaOperations;

/**
 * Publishes committed outbox rows until Kafka confirms them. This class is the relay thread's loop: it waits for the
 * next event or timer, hands events to {@link RelayIntake} (claims and admissions) and {@link RelayPublishing} (sends
 * and outcomes), renews its leases while it holds rows, runs housekeeping, and on stop waits for what is in flight
 * and gives back every row it holds. Every statement runs off this thread, in {@link RelayBookkeeping}; the outbox
 * template reaches the relay only through its {@link RelayPort}.
 *
 * <p>
 * A message's way: the application's thread writes the row in its transaction and, once committed, tells the port;
 * the relay thread asks the bookkeeping thread to admit (or a poll to claim) it; the admitted row comes back as an
 * event and is held in its key's lane; the relay thread sends it; the producer's I/O thread answers with an event;
 * the relay thread completes the sender's future and the marks thread marks the row {@code SENT}.
 *
 * <p>
 * <b>Fencing:</b> every update of a leased row names this instance's tokens (owner and writer): once a lease ran out
 * and another instance claimed the row, this instance can neither mark nor re-send it. A row is never sent once its
 * lease is within a third of its end, and the relay counts on a renewed lease only once the table has it.
 */
final class OutboxRelay implements SmartLifecycle, DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

	private final OutboxStore store;

	private final RelayPublishing.Publisher kafka;

	private final OutboxRelaySettings settings;

	private final String owner = "rk-" + UUID.randomUUID();

	private final RelayQueue events = new RelayQueue();

	private final LocalSends localSends = new LocalSends();

	private final RelayPort port;

	private final RelayHousekeeping housekeeping;

	private final AtomicBoolean housekeepingInFlight = new AtomicBoolean();

	private final AtomicLong published = new AtomicLong();

	private final AtomicLong failed = new AtomicLong();

	private final AtomicLong letGo = new AtomicLong();

	private final SendOutcomeListener listener;

	private final @Nullable AutoCloseable resources;

	private volatile @Nullable Thread thread;

	private volatile boolean running;

	// a new set per start, confined to the relay thread
	private RelayLanes lanes = new RelayLanes();

	private WrittenRows written;

	private RelayBookkeeping bookkeeping;

	private RelayFailures failures;

	private RelayIntake intake;

	private RelayPublishing publishing;

	private long nextRenew;

	private boolean renewInFlight;

	private long nextHousekeeping;

	/**
	 * Create a relay.
	 * @param store the outbox table
	 * @param kafka the template to publish with
	 * @param settings how to work
	 * @param listener hears every publish outcome, as for direct sends
	 * @param resources closed when the relay is destroyed, such as the producer factory it owns; may be {@code null}
	 * @param tracing runs each publish inside its row's trace context
	 */
	OutboxRelay(OutboxStore store, KafkaOperations<String, byte[]> kafka, OutboxRelaySettings settings,
			SendOutcomeListener listener, @Nullable AutoCloseable resources, RecordTracing tracing) {
		this.store = store;
		this.kafka = (record) -> tracing.within(record.headers(), "outbox publish", () -> kafka.send(record));
		this.settings = settings;
		this.listener = listener;
		this.resources = resources;
		this.port = new RelayPort(this.owner, this.events, this.localSends, settings, () -> this.running);
		this.housekeeping = new RelayHousekeeping(store, this.localSends, settings);
		newRun();
	}

	private void newRun() {
		this.lanes = new RelayLanes();
		this.written = new WrittenRows(this.store, this.owner, this.localSends);
		this.bookkeeping = new RelayBookkeeping(this.store, this.owner, this.events);
		this.failures = new RelayFailures(this.settings.pollInterval());
		this.intake = new RelayIntake(this.store, this.settings, this.owner, this.lanes, this.written,
				this.bookkeeping, this.failures);
		this.publishing = new RelayPublishing(this.kafka, this.store, this.settings, this.owner, this.lanes,
				this.written, this.localSends, this.listener, this.bookkeeping, this.events, this.published,
				this.failed, this.letGo);
		this.nextRenew = 0;
		this.renewInFlight = false;
		this.nextHousekeeping = 0;
		this.housekeepingInFlight.set(false);
	}

	/**
	 * Return this instance's owner token, written into the rows it leases.
	 * @return the token
	 */
	String owner() {
		return this.owner;
	}

	/**
	 * Return how many rows this relay published.
	 * @return the count since start
	 */
	long publishedCount() {
		return this.published.get();
	}

	/**
	 * Return how many rows this relay gave up on.
	 * @return the count since start
	 */
	long failedCount() {
		return this.failed.get();
	}

	/**
	 * Return how many rows the relay let go because their lease ran out before it was renewed, or came within a third
	 * of its end before they could be sent (they, and their keys' later rows, went back to the table).
	 * @return the count since start
	 */
	long letGoCount() {
		return this.letGo.get();
	}

	/**
	 * Look for due rows now rather than at the next poll.
	 */
	void wake() {
		this.port.wake();
	}

	/** The outbox template's way in. */
	RelayPort port() {
		return this.port;
	}

	@Override
	public void start() {
		if (this.running) {
			return;
		}
		newRun();
		this.running = true;
		Thread worker = new Thread(this::run, "rk-outbox-relay");
		worker.setDaemon(true);
		this.thread = worker;
		worker.start();
	}

	@Override
	public void stop() {
		this.running = false;
		Thread worker = this.thread;
		if (worker != null) {
			this.port.wake();
			try {
				worker.join(this.settings.confirmTimeout().toMillis() + 5_000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	@Override
	public void destroy() throws Exception {
		stop();
		if (this.resources != null) {
			this.resources.close();
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Stop after the listener containers (which may still send while they stop) and before the producer closes.
	 */
	@Override
	public int getPhase() {
		return Integer.MAX_VALUE - 1_000;
	}

	private void run() {
		while (this.running) {
			try {
				handle(this.events.take(Math.max(1, waitMillis())));
				if (System.currentTimeMillis() < this.failures.backOffUntil()) {
					continue;
				}
				this.intake.admitIfDue();
				this.publishing.flushMarksIfDue();
				this.intake.claimIfDue();
				this.publishing.sendReady();
				renewIfDue();
				housekeepingIfDue();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				break;
			}
			catch (RuntimeException ex) {
				this.failures.failed("a step failed", ex);
			}
			catch (Error ex) {
				// keep relaying: a dead relay would leave every committed row unpublished without a word
				this.failures.failedWithError(ex);
			}
		}
		drainAndRelease();
	}

	private long waitMillis() {
		long now = System.currentTimeMillis();
		if (now < this.failures.backOffUntil()) {
			return this.failures.backOffUntil() - now;
		}
		long wait = Math.min(this.nextRenew, this.nextHousekeeping) - now;
		return Math.min(wait, Math.min(this.intake.waitMillis(now), this.publishing.waitMillis(now)));
	}

	private void handle(List<Object> batch) {
		for (Object event : batch) {
			if (event instanceof Outcome outcome) {
				this.publishing.outcome(outcome);
			}
			else if (event instanceof Committed row) {
				this.intake.committed(row);
			}
			else if (event instanceof Claimed claimed) {
				this.intake.claimed(claimed, this.running);
			}
			else if (event instanceof RelayBookkeeping.Marked marked) {
				this.written.marked(marked.ids());
			}
			else if (event instanceof Renewed renewed) {
				renewed(renewed);
			}
			else if (event instanceof WriteFailed failure) {
				this.failures.failed("could not " + failure.what(), failure.failure());
			}
			else if (event instanceof Scheduled scheduled) {
				this.intake.scheduled(scheduled.dueAt());
			}
			else {
				this.intake.wake();
			}
		}
	}

	private void renewIfDue() {
		long now = System.currentTimeMillis();
		if (now < this.nextRenew || this.renewInFlight) {
			return;
		}
		this.nextRenew = now + this.settings.lease().toMillis() / 3;
		if (this.lanes.size() == 0) {
			return;
		}
		this.renewInFlight = true;
		this.bookkeeping.renew(now, this.intake.nextLeaseUntil());
	}

	private void renewed(Renewed renewed) {
		this.renewInFlight = false;
		if (renewed.failure() != null) {
			if (this.running) {
				this.failures.failed("could not renew its leases", renewed.failure());
			}
			return;
		}
		List<Held> letGo = this.lanes.renewed(renewed.now(), renewed.until());
		this.letGo.addAndGet(letGo.size());
		if (!letGo.isEmpty()) {
			// the renewal may have extended their rows' leases in the table too: give them back at once, so that they
			// and their key's later rows wait for their key's turn there, in order
			this.publishing.release(letGo);
			logger.warn("Let go of {} outbox rows whose lease ran out before it was renewed, with the rows of their "
					+ "keys queued behind them; they are published from the table in their keys' order", letGo.size());
		}
	}

	private void housekeepingIfDue() {
		long now = System.currentTimeMillis();
		if (now < this.nextHousekeeping || !this.housekeepingInFlight.compareAndSet(false, true)) {
			return;
		}
		this.nextHousekeeping = now + this.settings.pollInterval().toMillis();
		this.bookkeeping.housekeeping(() -> {
			try {
				this.housekeeping.run(now);
			}
			finally {
				this.housekeepingInFlight.set(false);
			}
		});
	}

	/**
	 * Stopping: wait for what is in flight, mark it, and give back every row not sent, so that another instance can
	 * take it at once instead of waiting for the lease to run out.
	 */
	private void drainAndRelease() {
		long deadline = System.currentTimeMillis() + this.settings.confirmTimeout().toMillis();
		try {
			List<Object> left = new ArrayList<>(); // commits that came meanwhile: their rows are given back below
			while (this.publishing.inFlight() > 0 && System.currentTimeMillis() < deadline) {
				for (Object event : this.events.take(50)) {
					if (event instanceof Outcome outcome) {
						this.publishing.outcome(outcome);
					}
					else if (event instanceof Claimed claimed) {
						this.intake.claimed(claimed, false); // its rows go back
					}
					else if (event instanceof Committed) {
						left.add(event);
					}
				}
			}
			this.publishing.flushMarks(true);
			this.bookkeeping.shutdown(deadline); // what was asked for runs to its end; from here on, on this thread
			left.addAll(this.events.take(0));
			List<String> notAdmitted = new ArrayList<>(this.written.drain());
			for (Object event : left) {
				if (event instanceof Claimed claimed) {
					this.intake.claimed(claimed, false);
				}
				else if (event instanceof Committed row) {
					notAdmitted.add(row.messageId());
				}
				else if (event instanceof WriteFailed failure) {
					logger.warn("Outbox relay could not {} while stopping; those rows' leases run out in {}: {}",
							failure.what(), this.settings.lease(), KafkaErrors.describe(failure.failure()));
				}
			}
			this.bookkeeping.releaseCommitted(notAdmitted); // written under this instance's writer lease
			List<Long> held = new ArrayList<>();
			this.lanes.all().forEach((entry) -> held.add(entry.row.id()));
			this.bookkeeping.release(held);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (RuntimeException ex) {
			logger.warn("Outbox relay could not hand back its rows on stop; their leases run out in {}: {}",
					this.settings.lease(), KafkaErrors.describe(ex));
		}
	}

}
