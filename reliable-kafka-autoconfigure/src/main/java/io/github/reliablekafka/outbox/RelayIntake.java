package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.github.reliablekafka.outbox.RelayEvents.Claimed;
import io.github.reliablekafka.outbox.RelayEvents.Committed;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How rows come to the relay (relay thread only; the statements run on the bookkeeping thread): the poll's claims
 * of due rows, the admissions of the rows this instance just committed under its writer lease (immediate mode), and
 * the look-ups of the next delayed row's due time. Claimed and admitted rows are held in the {@link RelayLanes}, in
 * their key's order, except those of a key whose rows were let go while the claim was under way: they go back to the
 * table, to come again in their key's line.
 */
final class RelayIntake {

	private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

	/**
	 * The longest an empty poll goes without asking the table for the next delayed row's due time. It asks sooner
	 * when a delayed row it knows of falls due (its own, or one an earlier look found).
	 */
	private static final long NEXT_DUE_LOOKUP_MILLIS = 60_000;

	private final OutboxStore store;

	private final OutboxRelaySettings settings;

	private final String owner;

	private final RelayLanes lanes;

	private final WrittenRows written;

	private final RelayBookkeeping bookkeeping;

	private final RelayFailures failures;

	private long lastLeaseUntil;

	private long nextClaim;

	/** When an empty poll next asks the table for the next delayed row's due time. */
	private long nextDueLookup;

	/** Whether the poll under way asks for it, should it find nothing. */
	private boolean nextDueLookupInFlight;

	/** Whether a poll's claim is under way. */
	private boolean claimInFlight;

	/** Admissions of just-committed rows under way. */
	private int admissionsInFlight;

	RelayIntake(OutboxStore store, OutboxRelaySettings settings, String owner, RelayLanes lanes, WrittenRows written,
			RelayBookkeeping bookkeeping, RelayFailures failures) {
		this.store = store;
		this.settings = settings;
		this.owner = owner;
		this.lanes = lanes;
		this.written = written;
		this.bookkeeping = bookkeeping;
		this.failures = failures;
	}

	/** A row this instance wrote under its writer lease was committed: it joins the next admission. */
	void committed(Committed row) {
		this.written.committed(row);
	}

	/** A delayed row was committed: claim no later than its due time. */
	void scheduled(long dueAt) {
		this.nextClaim = Math.min(this.nextClaim, dueAt);
		this.nextDueLookup = Math.min(this.nextDueLookup, dueAt);
	}

	/** Claim at the next step. */
	void wake() {
		this.nextClaim = 0;
	}

	/** Return how long the loop may sleep before intake has something to do. */
	long waitMillis(long now) {
		long wait = this.nextClaim - now;
		return this.written.isEmpty() ? wait : Math.min(wait, this.written.waitMillis());
	}

	/**
	 * Admit the committed rows whose window closed, in batches; while the lanes are saturated (the broker is slow or
	 * down) the rows go back to the table instead and wait there for a claim.
	 */
	void admitIfDue() {
		List<Committed> committed = this.written.takeIfDue(this.settings.batchSize());
		boolean saturated = this.lanes.size() > this.settings.batchSize() * 8;
		for (int from = 0; from < committed.size(); from += this.settings.batchSize()) {
			List<Committed> chunk = committed.subList(from, Math.min(committed.size(), from + this.settings.batchSize()));
			List<String> messageIds = chunk.stream().map(Committed::messageId).toList();
			Map<String, Long> leases = new HashMap<>();
			chunk.forEach((row) -> leases.put(row.messageId(), row.leaseUntil()));
			long until = chunk.stream().mapToLong(Committed::leaseUntil).min().orElse(0);
			long drops = this.lanes.dropCount();
			boolean failedBlocks = this.settings.failedBlocks();
			this.admissionsInFlight++;
			this.bookkeeping.claim(() -> {
				if (saturated) {
					this.store.releaseCommitted(this.owner, messageIds);
					return new Claimed(false, List.of(), until, drops, null, null);
				}
				return this.written.admit(messageIds, leases, until, drops, failedBlocks);
			}, (failure) -> new Claimed(false, List.of(), until, drops, null, failure));
		}
	}

	/** Claim due rows when it is time and the lanes are below their low-water mark. */
	void claimIfDue() {
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
		boolean failedBlocks = this.settings.failedBlocks();
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
		this.bookkeeping.claim(() -> {
			long started = System.nanoTime();
			List<OutboxRow> rows = this.store.claimDue(this.owner, now, until, limit, failedBlocks, youngest);
			logger.debug("Claimed {} due rows in {} ms", rows.size(), (System.nanoTime() - started) / 1_000_000);
			Long nextDue = (rows.isEmpty() && lookForNextDue) ? this.store.nextNotBefore(now) : null;
			return new Claimed(true, rows, until, drops, nextDue, null);
		}, (failure) -> new Claimed(true, List.of(), until, drops, null, failure));
	}

	/**
	 * Rows a claim leased to this instance: hold them, except those of a key whose rows were let go while the claim
	 * was under way, or whose earlier rows this instance wrote are still on their way from their commit.
	 * @param running whether the relay runs; once stopping the rows go back at once
	 */
	void claimed(Claimed claimed, boolean running) {
		if (claimed.poll()) {
			this.claimInFlight = false;
			if (this.nextDueLookupInFlight && (claimed.failure() != null || !claimed.rows().isEmpty())) {
				this.nextDueLookup = 0; // it did not look (a poll that finds rows does not): the next poll does
			}
			this.nextDueLookupInFlight = false;
		}
		else {
			this.admissionsInFlight--;
		}
		if (claimed.failure() != null) {
			if (running) {
				this.failures.failed("could not claim rows", claimed.failure());
			}
		}
		else if (!running) {
			this.bookkeeping.release(claimed.rows().stream().map(OutboxRow::id).toList());
		}
		else {
			this.failures.succeeded();
			hold(claimed);
		}
		if (!this.claimInFlight && this.admissionsInFlight == 0) {
			this.lanes.forgetDrops();
		}
	}

	private void hold(Claimed claimed) {
		long now = System.currentTimeMillis();
		List<Long> giveBack = new ArrayList<>();
		Set<Long> kept = new HashSet<>();
		for (OutboxRow row : claimed.rows()) {
			if (this.lanes.droppedSince(row, claimed.drops()) || !this.written.rowsBeforeAreHere(
					claimed.writerRowsBefore().getOrDefault(row.id(), List.of()), kept, this.lanes)) {
				giveBack.add(row.id());
				continue;
			}
			kept.add(row.id());
			ProducerRecord<String, byte[]> record = claimed.records().get(row.id());
			if (record == null) {
				record = new ProducerRecord<>(row.topic(), null, row.key(), row.payload(),
						HeaderCodec.decode(row.headers()));
			}
			this.lanes.add(row, record, claimed.leaseOf(row.id()));
		}
		this.bookkeeping.release(giveBack);
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

	/** Return a lease end for a claim or renewal: a lease from now, later than any this instance asked for. */
	long nextLeaseUntil() {
		this.lastLeaseUntil = Math.max(System.currentTimeMillis() + this.settings.lease().toMillis(),
				this.lastLeaseUntil + 1);
		return this.lastLeaseUntil;
	}

}
