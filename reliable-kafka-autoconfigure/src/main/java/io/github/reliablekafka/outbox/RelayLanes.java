package io.github.reliablekafka.outbox;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;

/**
 * The rows a relay holds, in one lane per topic and key. A lane has at most one row in flight: the next row of a
 * key is handed to Kafka only once the previous one is confirmed, so a failure can never let a later row overtake
 * an earlier one. Rows without a key get a lane each. Used by the relay thread only.
 */
final class RelayLanes {

	private final Map<Object, Lane> lanes = new HashMap<>();

	private final Map<Long, Held> held = new HashMap<>();

	/** Lanes whose head may be sent: nothing in flight and a row waiting. */
	private final ArrayDeque<Lane> sendable = new ArrayDeque<>();

	/** Counts the times rows were let go; see {@link #droppedSince}. */
	private long drops;

	/** When each key last had rows let go, as a value of {@link #drops}. */
	private final Map<Object, Long> droppedAt = new HashMap<>();

	int size() {
		return this.held.size();
	}

	boolean holds(long id) {
		return this.held.containsKey(id);
	}

	Iterable<Held> all() {
		return List.copyOf(this.held.values());
	}

	void add(OutboxRow row, ProducerRecord<String, byte[]> record, long leaseValidUntil) {
		if (this.held.containsKey(row.id())) {
			return;
		}
		Lane lane = this.lanes.computeIfAbsent(keyOf(row), Lane::new);
		Held entry = new Held(row, record, lane, leaseValidUntil);
		this.held.put(row.id(), entry);
		lane.queue.add(entry);
		lane.waiting = true;
		if (lane.inFlight == null && lane.queue.size() == 1) {
			this.sendable.add(lane);
		}
	}

	private static Object keyOf(OutboxRow row) {
		return (row.key() != null) ? new LaneKey(row.topic(), row.key()) : row.id();
	}

	/**
	 * Return the current drop count, to be passed to {@link #droppedSince} later.
	 * @return the count
	 */
	long dropCount() {
		return this.drops;
	}

	/**
	 * Whether rows of a row's key were let go after the drop count was {@code count}: a claim made meanwhile may
	 * have taken that key's later rows while the rows let go were still held, and must give them back.
	 */
	boolean droppedSince(OutboxRow row, long count) {
		Long at = this.droppedAt.get(keyOf(row));
		return at != null && at > count;
	}

	/** Forget the drops: no claim made before now is still under way. */
	void forgetDrops() {
		this.droppedAt.clear();
	}

	private void dropped(Object key) {
		this.droppedAt.put(key, ++this.drops);
	}

	/**
	 * Take the next lane whose head may be sent.
	 */
	@Nullable Lane nextSendable() {
		return this.sendable.poll();
	}

	void putBack(Lane lane) {
		this.sendable.addFirst(lane);
	}

	/**
	 * Mark a lane's head as in flight.
	 */
	Held startSending(Lane lane) {
		Held head = Objects.requireNonNull(lane.queue.poll());
		lane.inFlight = head;
		lane.waiting = !lane.queue.isEmpty();
		return head;
	}

	/**
	 * A row is done (confirmed, or given up and set aside): its lane may send its next row.
	 */
	void done(Held entry) {
		this.held.remove(entry.row.id());
		Lane lane = entry.lane;
		if (lane.inFlight == entry) {
			lane.inFlight = null;
		}
		if (lane.queue.isEmpty()) {
			if (lane.inFlight == null) {
				this.lanes.remove(lane.key, lane);
			}
		}
		else if (lane.inFlight == null) {
			this.sendable.add(lane);
		}
	}

	/**
	 * Let go of every row of a lane that is not in flight, so that they wait for their key's turn in the table.
	 * @return the rows let go
	 */
	List<Held> dropQueued(Lane lane) {
		List<Held> dropped = new ArrayList<>(lane.queue);
		lane.queue.clear();
		lane.waiting = false;
		dropped(lane.key);
		dropped.forEach((entry) -> this.held.remove(entry.row.id()));
		this.sendable.remove(lane);
		if (lane.inFlight == null) {
			this.lanes.remove(lane.key, lane);
		}
		return dropped;
	}

	/**
	 * Apply a lease renewal: rows whose lease was still valid get the new end; rows whose lease had run out are let
	 * go (another instance may have claimed them) unless in flight.
	 * @return the rows let go
	 */
	List<Held> renewed(long now, long until) {
		List<Held> expired = new ArrayList<>();
		for (Held entry : List.copyOf(this.held.values())) {
			if (entry.leaseValidUntil >= now) {
				entry.leaseValidUntil = until;
			}
			else if (entry.lane.inFlight != entry) {
				expired.add(entry);
			}
		}
		expired.forEach((entry) -> {
			entry.lane.queue.remove(entry);
			entry.lane.waiting = !entry.lane.queue.isEmpty();
			dropped(entry.lane.key);
			done(entry);
		});
		return expired;
	}

	/** A row the relay holds. */
	static final class Held {

		final OutboxRow row;

		final ProducerRecord<String, byte[]> record;

		final Lane lane;

		long leaseValidUntil;

		Held(OutboxRow row, ProducerRecord<String, byte[]> record, Lane lane, long leaseValidUntil) {
			this.row = row;
			this.record = record;
			this.lane = lane;
			this.leaseValidUntil = leaseValidUntil;
		}

	}

	/** The rows of one topic and key, in order. */
	static final class Lane {

		final Object key;

		final ArrayDeque<Held> queue = new ArrayDeque<>();

		@Nullable Held inFlight;

		/**
		 * Whether rows wait behind the one in flight: Kafka's answer for it is then urgent (read by the thread that
		 * hears the answer, written by the relay thread).
		 */
		volatile boolean waiting;

		Lane(Object key) {
			this.key = key;
		}

		@Nullable Held head() {
			return this.queue.peek();
		}

	}

	private record LaneKey(String topic, String key) {
	}

}
