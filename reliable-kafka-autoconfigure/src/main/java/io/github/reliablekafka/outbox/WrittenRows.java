package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.outbox.RelayEvents.Claimed;
import io.github.reliablekafka.outbox.RelayEvents.Committed;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rows this instance wrote under its writer lease ({@code immediate} mode), from their commit until the relay
 * holds them: gathered for a short window, admitted in batches on the claims thread (one read, no claim, nothing read
 * back: they are sent from the records kept for their futures), then checked on the relay thread against the earlier
 * rows of their key that this instance wrote. Everything but {@link #admit} runs on the relay thread.
 */
final class WrittenRows {

	private static final Logger logger = LoggerFactory.getLogger(WrittenRows.class);

	/**
	 * Committed rows are admitted together once this long has passed since the first of them (or once a batch of them
	 * waits): fewer, larger statements leave the database to the application's own transactions.
	 */
	private static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	private final OutboxStore store;

	private final String owner;

	private final LocalSends localSends;

	private final List<Committed> waiting = new ArrayList<>();

	private long since;

	/** Rows confirmed by Kafka whose mark has not been written yet. */
	private final Set<Long> confirmedUnmarked = new HashSet<>();

	WrittenRows(OutboxStore store, String owner, LocalSends localSends) {
		this.store = store;
		this.owner = owner;
		this.localSends = localSends;
	}

	void committed(Committed row) {
		if (this.waiting.isEmpty()) {
			this.since = System.nanoTime();
		}
		this.waiting.add(row);
	}

	boolean isEmpty() {
		return this.waiting.isEmpty();
	}

	/** How long until the waiting rows' window closes. */
	long waitMillis() {
		return 1 + (this.since + WINDOW_NANOS - System.nanoTime()) / 1_000_000;
	}

	/** Take the waiting rows once their window closed or a batch waits; else nothing. */
	List<Committed> takeIfDue(int batchSize) {
		if (this.waiting.isEmpty()
				|| (this.waiting.size() < batchSize && System.nanoTime() - this.since < WINDOW_NANOS)) {
			return List.of();
		}
		List<Committed> due = List.copyOf(this.waiting);
		this.waiting.clear();
		return due;
	}

	/** Take the message ids of every waiting row (stopping: they are given back). */
	List<String> drain() {
		List<String> ids = this.waiting.stream().map(Committed::messageId).toList();
		this.waiting.clear();
		return ids;
	}

	/**
	 * Admit rows this instance just committed under its writer lease (on the claims thread).
	 */
	Claimed admit(List<String> messageIds, Map<String, Long> leases, long until, long drops, boolean failedBlocks) {
		long started = System.nanoTime();
		List<OutboxStore.Admitted> admitted = this.store.admitCommitted(this.owner, System.currentTimeMillis(),
				failedBlocks, messageIds);
		List<OutboxRow> rows = new ArrayList<>(admitted.size());
		Map<Long, ProducerRecord<String, byte[]>> records = new HashMap<>();
		Map<Long, List<Long>> writerRowsBefore = new HashMap<>();
		Map<Long, Long> rowLeases = new HashMap<>();
		List<Long> unknown = new ArrayList<>();
		for (OutboxStore.Admitted row : admitted) {
			ProducerRecord<String, byte[]> record = this.localSends.record(row.messageId());
			if (record == null) {
				unknown.add(row.id()); // its future is gone (timed out): the poll reads it from the table
			}
			else {
				rows.add(new OutboxRow(row.id(), row.messageId(), record.topic(), record.key(), record.value(), null, 0,
						0, 0));
				records.put(row.id(), record);
				rowLeases.put(row.id(), leases.getOrDefault(row.messageId(), until));
				if (!row.writerRowsBefore().isEmpty()) {
					writerRowsBefore.put(row.id(), row.writerRowsBefore());
				}
			}
		}
		if (!unknown.isEmpty()) {
			this.store.release(this.owner, unknown);
		}
		logger.debug("Admitted {} of {} committed rows in {} ms", rows.size(), messageIds.size(),
				(System.nanoTime() - started) / 1_000_000);
		return new Claimed(false, rows, until, drops, null, null, records, writerRowsBefore, rowLeases);
	}

	/**
	 * Whether this instance has every earlier row of an admitted row's key that it wrote: held (or admitted just
	 * before it), or confirmed and waiting for its mark. One still on its way from its commit (its transaction
	 * committed before the admitted row's was written, but its own notice has not come yet) must go first, so the
	 * admitted row is given back to wait in its key's line.
	 */
	boolean rowsBeforeAreHere(List<Long> rowsBefore, Set<Long> admittedBefore, RelayLanes lanes) {
		for (long id : rowsBefore) {
			if (!admittedBefore.contains(id) && !lanes.holds(id) && !this.confirmedUnmarked.contains(id)) {
				return false;
			}
		}
		return true;
	}

	/** Kafka confirmed a row; its mark is on its way. */
	void confirmed(long id) {
		this.confirmedUnmarked.add(id);
	}

	/** Rows' marks were written (or could not be). */
	void marked(List<Long> ids) {
		ids.forEach(this.confirmedUnmarked::remove);
	}

}
