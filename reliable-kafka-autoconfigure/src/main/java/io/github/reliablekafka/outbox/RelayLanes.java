package io.github.reliablekafka.outbox;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
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

	private static final int MAX_PARKED = 10_000;

	private final Map<Object, Lane> lanes = new HashMap<>();

	private final Map<Long, Held> held = new HashMap<>();

	/** Lanes whose head may be sent: nothing in flight and a row waiting. */
	private final ArrayDeque<Lane> sendable = new ArrayDeque<>();

	/** Counts the times rows were let go; see {@link #droppedSince}. */
	private long drops;

	/** When each key last had rows let go, as a value of {@link #drops}. */
	private final Map<Object, Long> droppedAt = new HashMap<>();

	/**
	 * Keys whose row this relay parked as FAILED (on-failed=park), with that row's id: the key's next row confirmed
	 * overtakes it. At most {@link #MAX_PARKED} keys, the least recent forgotten first.
	 */
	private final Map<Object, Long> parked = new LinkedHashMap<>(16, 0.75f, true) {

		@Override
		protected boolean removeEldestEntry(Map.Entry<Object, Long> eldest) {
			return size() > MAX_PARKED;
		}

	};

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
		Held last = lane.queue.peekLast();
		if (last != null && last.row.id() > row.id()) {
			// an earlier row of the key came after later ones (claims and admissions race): keep the line in id order
			List<Held> line = new ArrayList<>(lane.queue);
			line.add(entry);
			line.sort(Comparator.comparingLong((Held held) -> held.row.id()));
			lane.queue.clear();
			lane.queue.addAll(line);
		}
		else {
			lane.queue.add(entry);
		}
		lane.waiting = true;
		if (lane.inFlight == null && lane.queue.size() == 1) {
			this.sendable.add(lane);
		}
	}

	private static Object keyOf(OutboxRow row) {
		return (row.key() != null) ? new LaneKey(row.topic(), row.key()) : row.id();
	}

	/**
	 * A row was parked as FAILED while its key's later rows go on: the first of them confirmed breaks the key's order.
	 * @param entry the row
	 */
	void parked(Held entry) {
		this.parked.put(entry.lane.key, entry.row.id());
	}

	/**
	 * Whether a confirmed row is the first of its key to overtake a row this relay parked as FAILED; it is the break
	 * the relay could not prevent, reported once.
	 * @param entry the confirmed row
	 * @return whether it overtook a parked row
	 */
	boolean overtookParked(Held entry) {
		Long parkedId = this.parked.get(entry.lane.key);
		if (parkedId == null || entry.row.id() < parkedId) {
			return false;
		}
		this.parked.remove(entry.lane.key);
		return true;
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
	 * Apply a lease renewal: rows whose lease was still valid get the new end. A row whose lease had run out (another
	 * instance may have claimed it) is let go unless in flight, and with it every row queued behind it in its lane:
	 * a key's later row is never sent while an earlier one is not held. The caller gives every row let go back to
	 * the table, so that none keeps a lease that nobody will send under.
	 * @return the rows let go, in lane order
	 */
	List<Held> renewed(long now, long until) {
		List<Lane> cut = new ArrayList<>();
		for (Held entry : this.held.values()) {
			if (entry.leaseValidUntil >= now) {
				entry.leaseValidUntil = until;
			}
			else if (entry.lane.inFlight != entry && !cut.contains(entry.lane)) {
				cut.add(entry.lane);
			}
		}
		List<Held> letGo = new ArrayList<>();
		for (Lane lane : cut) {
			List<Held> behind = new ArrayList<>();
			boolean expiredSeen = false;
			for (Held entry : lane.queue) {
				// leases of rows still valid were renewed above to `until`; the run-out ones are below `now`
				expiredSeen = expiredSeen || entry.leaseValidUntil < now;
				if (expiredSeen) {
					behind.add(entry);
				}
			}
			lane.queue.removeAll(behind);
			lane.waiting = !lane.queue.isEmpty();
			dropped(lane.key);
			for (Held entry : behind) {
				this.held.remove(entry.row.id());
			}
			if (lane.queue.isEmpty()) {
				this.sendable.remove(lane);
				if (lane.inFlight == null) {
					this.lanes.remove(lane.key, lane);
				}
			}
			letGo.addAll(behind);
		}
		return letGo;
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
