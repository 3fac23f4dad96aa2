package io.github.reliablekafka.outbox;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.outbox.RelayEvents.Outcome;
import io.github.reliablekafka.outbox.RelayLanes.Held;
import io.github.reliablekafka.outbox.RelayLanes.Lane;
import io.github.reliablekafka.producer.ReliableSendException;
import io.github.reliablekafka.producer.SendOutcomeListener;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.support.SendResult;

/**
 * How held rows leave the relay (relay thread only): sent to Kafka in key order (one unconfirmed row per key at a
 * time, never within a third of its lease's end), and Kafka's answers: a confirmation is marked {@code SENT} in
 * batches; a retryable failure is recorded with its back-off and the key's later rows go back to the table behind it;
 * a final one marks the row {@code FAILED}. A topic whose metadata the client could not get is paused for one back-off
 * instead of holding every row of it as long.
 */
final class RelayPublishing {

	private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

	private static final int MARK_BATCH = 500;

	/** Confirmed rows are marked sent in one statement at most this often (or once MARK_BATCH of them wait). */
	private static final long MARK_INTERVAL_MILLIS = 50;

	private final Publisher kafka;

	private final OutboxStore store;

	private final OutboxRelaySettings settings;

	private final String owner;

	private final RelayLanes lanes;

	private final WrittenRows written;

	private final LocalSends localSends;

	private final SendOutcomeListener listener;

	private final RelayBookkeeping bookkeeping;

	private final RelayQueue events;

	private final AtomicLong published;

	private final AtomicLong failed;

	private final AtomicLong letGo;

	private final Map<String, Long> pausedTopics = new HashMap<>();

	private final List<OutboxStore.Sent> toMark = new ArrayList<>();

	private long nextMarkFlush;

	RelayPublishing(Publisher kafka, OutboxStore store, OutboxRelaySettings settings,
			String owner, RelayLanes lanes, WrittenRows written, LocalSends localSends, SendOutcomeListener listener,
			RelayBookkeeping bookkeeping, RelayQueue events, AtomicLong published, AtomicLong failed,
			AtomicLong letGo) {
		this.kafka = kafka;
		this.store = store;
		this.settings = settings;
		this.owner = owner;
		this.lanes = lanes;
		this.written = written;
		this.localSends = localSends;
		this.listener = listener;
		this.bookkeeping = bookkeeping;
		this.events = events;
		this.published = published;
		this.failed = failed;
		this.letGo = letGo;
	}

	/** Send the head of every key's line that may go now. */
	void sendReady() {
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
				// too close to its lease's end to send safely: back to the table, with its key's later rows
				List<Held> letGo = this.lanes.dropQueued(lane);
				this.letGo.addAndGet(letGo.size());
				release(letGo);
				continue;
			}
			send(this.lanes.startSending(lane));
		}
		paused.forEach(this.lanes::putBack);
	}

	private void send(Held entry) {
		CompletableFuture<SendResult<String, byte[]>> sent;
		try {
			sent = this.kafka.publish(entry.record);
		}
		catch (RuntimeException ex) {
			if (KafkaErrors.unwrap(ex) instanceof org.apache.kafka.common.errors.TimeoutException) {
				// the client waited max.block.ms for the topic's metadata: do not let every row of it wait as long
				this.pausedTopics.put(entry.row.topic(),
						System.currentTimeMillis() + this.settings.retry().delay().toMillis());
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

	/** Kafka answered a send. */
	void outcome(Outcome outcome) {
		Held entry = outcome.entry();
		if (outcome.failure() == null) {
			confirmed(entry, outcome.result());
			return;
		}
		Throwable cause = KafkaErrors.unwrap(outcome.failure());
		int attempts = entry.row.attempts() + 1;
		if (KafkaErrors.isPermanent(cause) || !this.settings.retry().canRetry(attempts)) {
			giveUp(entry, attempts, cause);
			return;
		}
		Duration wait = this.settings.retry().delayAfter(attempts);
		this.listener.onAttemptFailure(entry.record, attempts, cause, wait);
		List<Held> later = this.lanes.dropQueued(entry.lane);
		this.lanes.done(entry);
		long id = entry.row.id();
		String error = KafkaErrors.describe(cause);
		long nextAttemptAt = System.currentTimeMillis() + wait.toMillis();
		this.bookkeeping.write("record the failed attempt of row " + id,
				() -> this.store.markRetry(this.owner, id, attempts, error, nextAttemptAt));
		release(later); // the key's later rows wait for this one, in the table
	}

	private void confirmed(Held entry, SendResult<String, byte[]> result) {
		ProducerRecord<String, byte[]> record = entry.record;
		if (this.lanes.overtookParked(entry)) {
			this.listener.onOrderBreak(record, result.getRecordMetadata());
		}
		this.lanes.done(entry);
		this.toMark.add(new OutboxStore.Sent(entry.row.id(), result.getRecordMetadata().partition(),
				result.getRecordMetadata().offset()));
		this.written.confirmed(entry.row.id());
		this.published.incrementAndGet();
		try {
			this.listener.onSuccess(record, result.getRecordMetadata(), entry.row.attempts() + 1);
		}
		finally { // whatever a listener throws, the sender's future completes
			this.localSends.confirmed(entry.row.messageId(), result.getRecordMetadata());
		}
		flushMarks(false);
	}

	private void giveUp(Held entry, int attempts, Throwable cause) {
		String reason = KafkaErrors.describe(cause);
		boolean blocks = this.settings.failedBlocks();
		OutboxRow row = entry.row;
		logger.error("Outbox row {} (rk-id={} key={} topic {}) FAILED after {} attempt(s), {}: {}. It stays in the "
				+ "table as FAILED; re-queue it with OutboxOperations.", row.id(), row.messageId(),
				LogText.of(row.key()), row.topic(), attempts,
				blocks ? "its key is held until then" : "its key's later rows go on (order of this key broken here)",
				reason);
		this.failed.incrementAndGet();
		this.listener.onFailure(entry.record, attempts, cause);
		List<Held> later = blocks ? this.lanes.dropQueued(entry.lane) : List.of();
		if (!blocks && row.key() != null) {
			this.lanes.parked(entry);
		}
		this.lanes.done(entry);
		ReliableSendException failure = new ReliableSendException("Outbox row " + row.id() + " (rk-id="
				+ row.messageId() + ") FAILED after " + attempts + " attempt(s): " + reason, row.messageId(),
				row.topic(), row.key(), attempts, cause);
		this.bookkeeping.write("mark row " + row.id() + " FAILED", () -> {
			try {
				this.store.markFailed(this.owner, row.id(), attempts, reason);
			}
			finally { // the sender learns of it once the table says so
				this.localSends.fail(row.messageId(), failure);
			}
		});
		release(later);
	}

	/** Give held rows back to the table. */
	void release(List<Held> entries) {
		this.bookkeeping.release(entries.stream().map((entry) -> entry.row.id()).toList());
	}

	/** Return how long the loop may sleep before confirmed rows must be marked. */
	long waitMillis(long now) {
		return this.toMark.isEmpty() ? Long.MAX_VALUE : this.nextMarkFlush - now;
	}

	/** Mark the confirmed rows when their interval is up. */
	void flushMarksIfDue() {
		if (!this.toMark.isEmpty() && System.currentTimeMillis() >= this.nextMarkFlush) {
			flushMarks(true);
		}
	}

	/** Mark the confirmed rows sent: all of them when {@code force}, else once a batch of them waits. */
	void flushMarks(boolean force) {
		if (this.toMark.isEmpty() || (!force && this.toMark.size() < MARK_BATCH)) {
			return;
		}
		List<OutboxStore.Sent> sent = List.copyOf(this.toMark);
		this.toMark.clear();
		this.nextMarkFlush = System.currentTimeMillis() + MARK_INTERVAL_MILLIS;
		this.bookkeeping.mark(sent);
	}

	/** Return how many sends wait for Kafka's answer. */
	long inFlight() {
		long count = 0;
		for (Held entry : this.lanes.all()) {
			if (entry.lane.inFlight == entry) {
				count++;
			}
		}
		return count;
	}

	/** Publishes one row's record (the relay's template, inside the row's trace context). */
	@FunctionalInterface
	interface Publisher {

		CompletableFuture<SendResult<String, byte[]>> publish(ProducerRecord<String, byte[]> record);

	}

}
