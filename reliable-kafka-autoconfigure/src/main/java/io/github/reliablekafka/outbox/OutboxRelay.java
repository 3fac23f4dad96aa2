package io.github.reliablekafka.outbox;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

import io.github.reliablekafka.outbox.RelayEvents.Claimed;
import io.github.reliablekafka.outbox.RelayEvents.Committed;
import io.github.reliablekafka.outbox.RelayEvents.Outcome;
import io.github.reliablekafka.outbox.RelayEvents.Scheduled;
import io.github.reliablekafka.outbox.RelayEvents.Wake;
import io.github.reliablekafka.outbox.RelayLanes.Held;
import io.github.reliablekafka.outbox.RelayLanes.Lane;
import io.github.reliablekafka.producer.ReliableSendException;
import io.github.reliablekafka.producer.SendFuture;
import io.github.reliablekafka.producer.SendOutcomeListener;
import io.github.reliablekafka.support.KafkaErrors;
import io.github.reliablekafka.support.LogText;
import io.github.reliablekafka.support.ThrottledLog;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.support.SendResult;

/**
 * Publishes committed outbox rows until Kafka confirms them. One thread per instance holds the claimed rows (leases
 * fenced by this instance's owner token), hands them to Kafka in key order (one unconfirmed row per key at a time),
 * and records failed attempts with their back-off. Claims (and, in immediate mode, the admissions of the rows this
 * instance wrote under its writer lease) run one at a time, in order, on a second thread, and the marking of confirmed
 * rows as {@code SENT} (in batches) on a third, so that sending goes on while the database works; their rows come
 * back to the relay thread in the order they were asked for. It renews its leases while it works, releases what it
 * holds when it stops, and deletes confirmed rows after the retention period.
 *
 * <p>
 * <b>Fencing:</b> every update of a leased row names this instance's tokens (owner and writer): once a lease ran out
 * and another instance claimed the row, this instance can neither mark nor re-send it. A row is never sent once its
 * lease is within a third of its end.
 *
 * <p>
 * <b>Why over 400 lines:</b> it is one job, the relay thread's loop, and its parts (intake of claims and admissions,
 * sending and outcomes, lease renewal, the drain on stop) read and write the same thread-confined scheduling state
 * (lanes, paused topics, pending marks, back-off). Splitting them along ownership (intake, publishing, loop) is
 * planned as a change of its own, with no change in behaviour, rather than mixed into fixes.
 */
public final class OutboxRelay implements SmartLifecycle, DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

	/** The longest wait between two steps while the relay keeps failing. */
	private static final long MAX_ERROR_BACKOFF_MILLIS = 5_000;

	private static final int MARK_BATCH = 500;


	/** Confirmed rows are marked sent in one statement at most this often (or once MARK_BATCH of them wait). */
	private static final long MARK_INTERVAL_MILLIS = 50;

	/**
	 * The longest an empty poll goes without asking the table for the next delayed row's due time. It asks sooner
	 * when a delayed row it knows of falls due (its own, or one an earlier look found).
	 */
	private static final long NEXT_DUE_LOOKUP_MILLIS = 60_000;


	private final OutboxStore store;

	private final KafkaOperations<String, byte[]> kafka;

	private final OutboxRelaySettings settings;

	private final String owner = "rk-" + UUID.randomUUID();

	private final RelayQueue events = new RelayQueue();

	private final LocalSends localSends = new LocalSends();

	private final RelayHousekeeping housekeeping;

	private final WrittenRows written;

	private final AtomicLong published = new AtomicLong();

	private final AtomicLong failed = new AtomicLong();

	// relay thread only
	private final RelayLanes lanes = new RelayLanes();

	private final List<Long> toMark = new ArrayList<>();


	private final Map<String, Long> pausedTopics = new HashMap<>();

	private long lastLeaseUntil;

	private long nextClaim;

	private long nextRenew;

	private long nextHousekeeping;

	private long nextMarkFlush;

	/** When an empty poll next asks the table for the next delayed row's due time (relay thread). */
	private long nextDueLookup;

	/** Whether the poll under way asks for it, should it find nothing (relay thread). */
	private boolean nextDueLookupInFlight;


	private long errorBackoffUntil;

	private int failuresInARow;

	private final AtomicLong letGo = new AtomicLong();

	/** The relay's failures while the database cannot be reached: one line per cause a minute, with a count. */
	private final ThrottledLog failures = new ThrottledLog(logger, "Outbox relay", Duration.ofMinutes(1));

	private final SendOutcomeListener listener;

	private final @Nullable AutoCloseable resources;

	private volatile @Nullable Thread thread;

	/** Claims and marks, off the relay thread; a new one per start. */
	private RelayBookkeeping bookkeeping;

	/** Whether a poll's claim is under way (relay thread). */
	private boolean claimInFlight;

	/** Claims of just-committed rows under way (relay thread). */
	private int committedClaimsInFlight;

	private volatile boolean running;

	/**
	 * Create a relay.
	 * @param store the outbox table
	 * @param kafka the template to publish with
	 * @param settings how to work
	 * @param listener hears every publish outcome, as for direct sends
	 * @param resources closed when the relay is destroyed, such as the producer factory it owns; may be {@code null}
	 */
	public OutboxRelay(OutboxStore store, KafkaOperations<String, byte[]> kafka, OutboxRelaySettings settings,
			SendOutcomeListener listener, @Nullable AutoCloseable resources) {
		this.store = store;
		this.kafka = kafka;
		this.settings = settings;
		this.listener = listener;
		this.resources = resources;
		this.bookkeeping = new RelayBookkeeping(store, this.owner, this.events);
		this.housekeeping = new RelayHousekeeping(store, this.localSends, settings);
		this.written = new WrittenRows(store, this.owner, this.localSends);
	}

	/**
	 * Return this instance's owner token, written into the rows it leases.
	 * @return the token
	 */
	public String owner() {
		return this.owner;
	}

	/**
	 * Return how many rows this relay published.
	 * @return the count since start
	 */
	public long publishedCount() {
		return this.published.get();
	}

	/**
	 * Return how many rows this relay gave up on.
	 * @return the count since start
	 */
	public long failedCount() {
		return this.failed.get();
	}

	/**
	 * Return how many rows the relay let go because their lease ran out before it was renewed (they, and their keys'
	 * later rows, went back to the table).
	 * @return the count since start
	 */
	long letGoCount() {
		return this.letGo.get();
	}

	/**
	 * Look for due rows now rather than at the next poll.
	 */
	public void wake() {
		this.events.urgent(Wake.INSTANCE);
	}

	SendFuture track(String messageId, ProducerRecord<String, byte[]> record) {
		return this.localSends.track(messageId, record);
	}

	/**
	 * A message this instance sent will not be published by it: its transaction did not commit it.
	 */
	void notPublished(String messageId, RuntimeException failure) {
		this.localSends.fail(messageId, failure);
	}

	/**
	 * Return until when a row written now is leased to this instance's writer token, or 0 when rows are written
	 * without a lease (relay mode, or the relay is not running). In immediate mode the instance that writes a row
	 * publishes it right after the commit: leased from the start, the row needs no claim, and no other instance takes
	 * it (unless this one dies: then it is taken once the lease has run out).
	 */
	long writerLeaseUntil() {
		if (this.settings.publishMode() != PublishMode.IMMEDIATE || !this.running) {
			return 0;
		}
		return System.currentTimeMillis() + this.settings.lease().toMillis();
	}

	/**
	 * A row this instance committed: publish it now when it was written under this instance's writer lease
	 * ({@code leaseUntil > 0}), else leave it to the polls.
	 */
	void committed(String messageId, long leaseUntil) {
		this.localSends.committed(messageId, System.currentTimeMillis(), this.settings.confirmTimeout().toMillis());
		if (leaseUntil > 0) {
			this.events.lazy(new Committed(messageId, leaseUntil)); // joins the next admission's window anyway
		}
	}

	/**
	 * A delayed row was committed: look for due rows no later than its due time.
	 */
	void scheduled(long dueAt) {
		this.events.urgent(new Scheduled(dueAt));
	}

	@Override
	public void start() {
		if (this.running) {
			return;
		}
		this.running = true;
		this.bookkeeping = new RelayBookkeeping(this.store, this.owner, this.events);
		this.claimInFlight = false;
		this.committedClaimsInFlight = 0;
		this.nextDueLookup = 0;
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
			this.events.urgent(Wake.INSTANCE);
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
				handle(nextEvents());
				if (System.currentTimeMillis() < this.errorBackoffUntil) {
					continue;
				}
				flushMarksIfDue();
				claimIfDue();
				sendReady();
				renewIfDue();
				housekeepingIfDue();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				break;
			}
			catch (RuntimeException ex) {
				this.failures.failed("a step failed: " + KafkaErrors.describe(ex), "retrying in " + backOff() + " ms");
			}
			catch (Error ex) {
				// keep relaying: a dead relay would leave every committed row unpublished without a word
				logger.error("Outbox relay step failed with an error; retrying in {} ms", backOff(), ex);
			}
		}
		drainAndRelease();
	}

	/**
	 * Wait before the next step after a failure: the poll interval, twice as long after each failure in a row, at
	 * most {@link #MAX_ERROR_BACKOFF_MILLIS} (or the poll interval when it is longer).
	 * @return the wait in milliseconds
	 */
	private long backOff() {
		long poll = this.settings.pollInterval().toMillis();
		long wait = Math.max(poll, Math.min(poll << Math.min(this.failuresInARow, 10), MAX_ERROR_BACKOFF_MILLIS));
		this.failuresInARow++;
		this.errorBackoffUntil = System.currentTimeMillis() + wait;
		return wait;
	}

	private List<Object> nextEvents() throws InterruptedException {
		long now = System.currentTimeMillis();
		long wait = Math.min(this.nextClaim, Math.min(this.nextRenew, this.nextHousekeeping)) - now;
		if (!this.toMark.isEmpty()) {
			wait = Math.min(wait, this.nextMarkFlush - now);
		}
		if (!this.written.isEmpty()) {
			wait = Math.min(wait, this.written.waitMillis());
		}
		if (now < this.errorBackoffUntil) {
			wait = this.errorBackoffUntil - now;
		}
		return this.events.take(Math.max(1, wait));
	}

	private void handle(List<Object> batch) {
		for (Object event : batch) {
			if (event instanceof Outcome outcome) {
				handleOutcome(outcome);
			}
			else if (event instanceof Committed row) {
				this.written.committed(row);
			}
			else if (event instanceof Claimed claimed) {
				claimed(claimed);
			}
			else if (event instanceof RelayBookkeeping.Marked marked) {
				this.written.marked(marked.ids());
			}
			else if (event instanceof Scheduled scheduled) {
				this.nextClaim = Math.min(this.nextClaim, scheduled.dueAt());
				this.nextDueLookup = Math.min(this.nextDueLookup, scheduled.dueAt());
			}
			else {
				this.nextClaim = 0;
			}
		}
		List<Committed> committed = this.written.takeIfDue(this.settings.batchSize());
		// saturated (the broker is slow or down): the rows go back to the table and wait there for a claim
		boolean saturated = this.lanes.size() > this.settings.batchSize() * 8;
		for (int from = 0; from < committed.size(); from += this.settings.batchSize()) {
			List<Committed> chunk = committed.subList(from, Math.min(committed.size(), from + this.settings.batchSize()));
			List<String> messageIds = chunk.stream().map(Committed::messageId).toList();
			Map<String, Long> leases = new HashMap<>();
			chunk.forEach((row) -> leases.put(row.messageId(), row.leaseUntil()));
			long until = chunk.stream().mapToLong(Committed::leaseUntil).min().orElse(0);
			long drops = this.lanes.dropCount();
			boolean failedBlocks = failedBlocks();
			this.committedClaimsInFlight++;
			book(() -> {
				if (saturated) {
					this.store.releaseCommitted(this.owner, messageIds);
					return new Claimed(false, List.of(), until, drops, null, null);
				}
				return this.written.admit(messageIds, leases, until, drops, failedBlocks);
			}, (failure) -> new Claimed(false, List.of(), until, drops, null, failure));
		}
	}

	/**
	 * Run a claim off the relay thread; its result (or failure) comes back to the relay thread as an event.
	 */
	private void book(Supplier<Claimed> claim, Function<RuntimeException, Claimed> failed) {
		this.bookkeeping.claim(claim, failed);
	}

	/**
	 * Rows a claim leased to this instance: hold them, except those of a key whose rows were let go while the claim
	 * was under way (they go back to the table, to come again in their key's line).
	 */
	private void claimed(Claimed claimed) {
		if (claimed.poll()) {
			this.claimInFlight = false;
			if (this.nextDueLookupInFlight && (claimed.failure() != null || !claimed.rows().isEmpty())) {
				this.nextDueLookup = 0; // it did not look (a poll that finds rows does not): the next poll does
			}
			this.nextDueLookupInFlight = false;
		}
		else {
			this.committedClaimsInFlight--;
		}
		long now = System.currentTimeMillis();
		if (claimed.failure() != null) {
			if (this.running) {
				this.failures.failed("could not claim rows: " + KafkaErrors.describe(claimed.failure()),
						"retrying in " + backOff() + " ms");
			}
		}
		else if (!this.running) {
			releaseRows(claimed.rows().stream().map(OutboxRow::id).toList()); // stopping: give them back at once
		}
		else {
			this.failuresInARow = 0;
			this.failures.succeeded("Outbox relay claims rows again");
			List<OutboxRow> keep = new ArrayList<>(claimed.rows().size());
			List<Long> giveBack = new ArrayList<>();
			Set<Long> kept = new HashSet<>();
			for (OutboxRow row : claimed.rows()) {
				if (this.lanes.droppedSince(row, claimed.drops()) || !this.written.rowsBeforeAreHere(
						claimed.writerRowsBefore().getOrDefault(row.id(), List.of()), kept, this.lanes)) {
					giveBack.add(row.id());
				}
				else {
					keep.add(row);
					kept.add(row.id());
				}
			}
			releaseRows(giveBack);
			hold(keep, claimed);
			if (claimed.poll()) {
				if (!claimed.rows().isEmpty()) {
					this.nextClaim = now; // there may be more: claim again, as capacity allows
				}
				else {
					this.nextClaim = now + this.settings.pollInterval().toMillis();
					if (claimed.nextDue() != null) {
						this.nextClaim = Math.min(this.nextClaim, claimed.nextDue());
						this.nextDueLookup = Math.min(this.nextDueLookup, claimed.nextDue());
					}
				}
			}
		}
		if (!this.claimInFlight && this.committedClaimsInFlight == 0) {
			this.lanes.forgetDrops();
		}
	}

	private void claimIfDue() {
		long now = System.currentTimeMillis();
		// claim below a low-water mark only: each claim is a database round trip during which nothing is sent, so
		// hold enough rows for every busy key to go on for a while between claims
		int held = this.lanes.size();
		if (this.claimInFlight || now < this.nextClaim || held > this.settings.batchSize() * 2) {
			return;
		}
		int limit = Math.min(this.settings.batchSize() * 2, this.settings.batchSize() * 4 - held);
		// immediate mode: rows just committed are published by the instance that committed them; the poll takes what
		// that left (a busy key, a crash, a retry) once it is older than one poll interval
		long youngest = (this.settings.publishMode() == PublishMode.IMMEDIATE)
				? now - this.settings.pollInterval().toMillis() : Long.MAX_VALUE;
		long until = nextLeaseUntil();
		long drops = this.lanes.dropCount();
		boolean failedBlocks = failedBlocks();
		// the next delayed row's due time: a read of every unconfirmed row, so only when a delayed row this relay
		// knows of fell due (the rows after it are then looked for), at start, and once a minute for rows written by
		// instances that are gone (the polls take those anyway once due); new delayed rows of this instance tell the
		// relay their due time themselves
		boolean lookForNextDue = now >= this.nextDueLookup;
		if (lookForNextDue) {
			// set now, so that the due time of a delayed row committed meanwhile can still bring it forward
			this.nextDueLookup = now + NEXT_DUE_LOOKUP_MILLIS;
		}
		this.nextDueLookupInFlight = lookForNextDue;
		this.claimInFlight = true;
		book(() -> {
			long started = System.nanoTime();
			List<OutboxRow> rows = this.store.claimDue(this.owner, now, until, limit, failedBlocks, youngest);
			logger.debug("Claimed {} due rows in {} ms", rows.size(), (System.nanoTime() - started) / 1_000_000);
			Long nextDue = (rows.isEmpty() && lookForNextDue) ? this.store.nextNotBefore(now) : null;
			return new Claimed(true, rows, until, drops, nextDue, null);
		}, (failure) -> new Claimed(true, List.of(), until, drops, null, failure));
	}

	private void hold(List<OutboxRow> rows, Claimed claimed) {
		for (OutboxRow row : rows) {
			ProducerRecord<String, byte[]> record = claimed.records().get(row.id());
			if (record == null) {
				record = new ProducerRecord<>(row.topic(), null, row.key(), row.payload(),
						HeaderCodec.decode(row.headers()));
			}
			this.lanes.add(row, record, claimed.leaseOf(row.id()));
		}
	}

	private void sendReady() {
		long now = System.currentTimeMillis();
		long margin = this.settings.lease().toMillis() / 3;
		List<Lane> paused = new ArrayList<>();
		Lane lane;
		while ((lane = this.lanes.nextSendable()) != null) {
			Held head = lane.head();
			if (head == null) {
				continue;
			}
			Long pausedUntil = this.pausedTopics.get(head.row.topic());
			if (pausedUntil != null && now < pausedUntil) {
				paused.add(lane);
				continue;
			}
			if (head.leaseValidUntil - now < margin) {
				release(this.lanes.dropQueued(lane)); // too close to its lease's end to send safely
				continue;
			}
			send(this.lanes.startSending(lane));
		}
		paused.forEach(this.lanes::putBack);
	}

	private void send(Held entry) {
		CompletableFuture<SendResult<String, byte[]>> sent;
		try {
			sent = this.kafka.send(entry.record);
		}
		catch (RuntimeException ex) {
			if (KafkaErrors.unwrap(ex) instanceof org.apache.kafka.common.errors.TimeoutException) {
				// the client waited max.block.ms for the topic's metadata: do not let every row of it wait as long
				this.pausedTopics.put(entry.row.topic(),
						System.currentTimeMillis() + this.settings.retry().initialInterval().toMillis());
			}
			sent = CompletableFuture.failedFuture(ex);
		}
		sent.whenComplete((result, failure) -> {
			Outcome outcome = new Outcome(entry, result, failure);
			if (entry.lane.waiting) {
				this.events.urgent(outcome); // the key's next row waits for this answer
			}
			else {
				this.events.lazy(outcome);
			}
		});
	}

	private void handleOutcome(Outcome outcome) {
		Held entry = outcome.entry();
		if (outcome.failure() == null) {
			if (this.lanes.overtookParked(entry)) {
				this.listener.onOrderBreak(entry.record, outcome.result().getRecordMetadata());
			}
			this.lanes.done(entry);
			this.toMark.add(entry.row.id());
			this.written.confirmed(entry.row.id());
			this.published.incrementAndGet();
			try {
				this.listener.onSuccess(entry.record, outcome.result().getRecordMetadata(), entry.row.attempts() + 1);
			}
			finally { // whatever a listener throws, the sender's future completes
				this.localSends.confirmed(entry.row.messageId(), outcome.result().getRecordMetadata());
			}
			flushMarks(false);
			return;
		}
		Throwable cause = KafkaErrors.unwrap(outcome.failure());
		int attempts = entry.row.attempts() + 1;
		if (KafkaErrors.isPermanent(cause) || !this.settings.retry().canRetry(attempts)) {
			giveUp(entry, attempts, cause);
		}
		else {
			Duration wait = this.settings.retry().delayAfter(attempts);
			this.listener.onAttemptFailure(entry.record, attempts, cause, wait);
			List<Held> later = this.lanes.dropQueued(entry.lane);
			this.lanes.done(entry);
			this.store.markRetry(this.owner, entry.row.id(), attempts, KafkaErrors.describe(cause),
					System.currentTimeMillis() + wait.toMillis());
			release(later); // the key's later rows wait for this one, in the table
		}
	}

	private void giveUp(Held entry, int attempts, Throwable cause) {
		String reason = KafkaErrors.describe(cause);
		logger.error("Outbox row {} (rk-id={} key={} topic {}) FAILED after {} attempt(s), {}: {}. It stays in the "
				+ "table as FAILED; re-queue it with OutboxOperations.", entry.row.id(), entry.row.messageId(),
				LogText.of(entry.row.key()), entry.row.topic(), attempts,
				failedBlocks() ? "its key is held until then"
						: "its key's later rows go on (order of this key broken here)",
				reason);
		this.failed.incrementAndGet();
		this.listener.onFailure(entry.record, attempts, cause);
		List<Held> later = failedBlocks() ? this.lanes.dropQueued(entry.lane) : List.of();
		if (!failedBlocks() && entry.row.key() != null) {
			this.lanes.parked(entry);
		}
		this.lanes.done(entry);
		this.store.markFailed(this.owner, entry.row.id(), attempts, reason);
		release(later);
		this.localSends.fail(entry.row.messageId(), new ReliableSendException("Outbox row " + entry.row.id()
				+ " (rk-id=" + entry.row.messageId() + ") FAILED after " + attempts + " attempt(s): " + reason,
				entry.row.messageId(), entry.row.topic(), entry.row.key(), attempts, cause));
	}

	private void release(List<Held> entries) {
		releaseRows(entries.stream().map((entry) -> entry.row.id()).toList());
	}

	private void releaseRows(List<Long> ids) {
		if (!ids.isEmpty()) {
			this.store.release(this.owner, ids);
		}
	}

	private void flushMarksIfDue() {
		if (!this.toMark.isEmpty() && System.currentTimeMillis() >= this.nextMarkFlush) {
			flushMarks(true);
		}
	}

	private void flushMarks(boolean force) {
		if (this.toMark.isEmpty() || (!force && this.toMark.size() < MARK_BATCH)) {
			return;
		}
		List<Long> ids = List.copyOf(this.toMark);
		this.toMark.clear();
		this.nextMarkFlush = System.currentTimeMillis() + MARK_INTERVAL_MILLIS;
		this.bookkeeping.mark(ids);
	}

	private void renewIfDue() {
		long now = System.currentTimeMillis();
		if (now < this.nextRenew) {
			return;
		}
		this.nextRenew = now + this.settings.lease().toMillis() / 3;
		if (this.lanes.size() == 0) {
			return;
		}
		long until = nextLeaseUntil();
		this.store.renew(this.owner, now, until);
		List<Held> letGo = this.lanes.renewed(now, until);
		this.letGo.addAndGet(letGo.size());
		if (!letGo.isEmpty()) {
			// the renewal may have extended their rows' leases in the table too: give them back at once, so that they
			// and their key's later rows wait for their key's turn there, in order
			release(letGo);
			logger.warn("Let go of {} outbox rows whose lease ran out before it was renewed, with the rows of their "
					+ "keys queued behind them; they are published from the table in their keys' order", letGo.size());
		}
	}

	private void housekeepingIfDue() {
		long now = System.currentTimeMillis();
		if (now < this.nextHousekeeping) {
			return;
		}
		this.nextHousekeeping = now + this.settings.pollInterval().toMillis();
		this.housekeeping.run(now);
	}

	/**
	 * Stopping: wait for what is in flight, mark it, and give back every row not sent, so that another instance can
	 * take it at once instead of waiting for the lease to run out.
	 */
	private void drainAndRelease() {
		long deadline = System.currentTimeMillis() + this.settings.confirmTimeout().toMillis();
		try {
			List<Object> left = new ArrayList<>(); // commits that came meanwhile: their rows are given back below
			while (inFlight() > 0 && System.currentTimeMillis() < deadline) {
				for (Object event : this.events.take(50)) {
					if (event instanceof Outcome outcome) {
						handleOutcome(outcome);
					}
					else if (event instanceof Claimed claimed) {
						claimed(claimed); // not running: its rows go back
					}
					else if (event instanceof Committed) {
						left.add(event);
					}
				}
			}
			flushMarks(true);
			this.bookkeeping.shutdown(deadline); // the marks and claims asked for run to their end
			left.addAll(this.events.take(0));
			List<String> notAdmitted = new ArrayList<>(this.written.drain());
			for (Object event : left) {
				if (event instanceof Claimed claimed) {
					claimed(claimed);
				}
				else if (event instanceof Committed row) {
					notAdmitted.add(row.messageId());
				}
			}
			if (!notAdmitted.isEmpty()) {
				this.store.releaseCommitted(this.owner, notAdmitted); // written under this instance's writer lease
			}
			List<Long> held = new ArrayList<>();
			this.lanes.all().forEach((entry) -> held.add(entry.row.id()));
			if (!held.isEmpty()) {
				this.store.release(this.owner, held);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (RuntimeException ex) {
			logger.warn("Outbox relay could not hand back its rows on stop; their leases run out in {}: {}",
					this.settings.lease(), KafkaErrors.describe(ex));
		}
	}

	private long inFlight() {
		long count = 0;
		for (Held entry : this.lanes.all()) {
			if (entry.lane.inFlight == entry) {
				count++;
			}
		}
		return count;
	}

	private long nextLeaseUntil() {
		this.lastLeaseUntil = Math.max(System.currentTimeMillis() + this.settings.lease().toMillis(),
				this.lastLeaseUntil + 1);
		return this.lastLeaseUntil;
	}

	private boolean failedBlocks() {
		return this.settings.onFailed() == OnFailed.BLOCK;
	}

	Duration pollInterval() {
		return this.settings.pollInterval();
	}

}
