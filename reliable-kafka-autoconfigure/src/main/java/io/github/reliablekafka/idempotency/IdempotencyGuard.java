package io.github.reliablekafka.idempotency;

import java.util.List;

/**
 * Runs a record's work at most once in effect per consumer group and idempotency key. Implementations:
 * {@link IdempotencyGuards#redis Redis}, {@link IdempotencyGuards#jdbc a database ledger} and
 * {@link IdempotencyGuards#twoTier both}.
 *
 * <p>
 * <b>Failure contract:</b> when the work throws, the key is left as if the work never ran, so a retry can run it.
 * When the guard cannot decide (its store is unreachable, another consumer holds the key's claim) it throws
 * {@link GuardUnavailableException}, and the record must be retried, not committed. When a record has been claimed
 * more than {@code max-claims} times without finishing (it kills its consumer), it throws
 * {@link CrashLoopException}, and the record must go to the dead-letter topic.
 */
public interface IdempotencyGuard {

	/**
	 * Run the work unless the key is known to be done.
	 * @param group the consumer group, the scope of the key
	 * @param key the idempotency key
	 * @param work the record's work
	 * @return whether the work ran or the record was a duplicate
	 * @throws GuardUnavailableException when the guard cannot decide now
	 * @throws CrashLoopException when the record keeps killing its consumer
	 * @throws Exception what the work threw
	 */
	Outcome execute(String group, String key, Work work) throws Exception;

	/**
	 * Run the work unless the key is known to be done, for a record that no consumer can have died on: it directly
	 * follows, on the same live consumer, a record of its partition that this guard found new and ran. Its claim need
	 * not be counted before the work (a claim only counts crash loops, and a record that kills its consumer here is
	 * claimed when it is replayed), and a redelivery is unlikely, so a store may go straight to its final word. The
	 * result is decided as by {@link #execute}; the default is {@link #execute}.
	 * @param group the consumer group, the scope of the key
	 * @param key the idempotency key
	 * @param work the record's work
	 * @return whether the work ran or the record was a duplicate
	 * @throws GuardUnavailableException when the guard cannot decide now
	 * @throws Exception what the work threw
	 */
	default Outcome executeInFlow(String group, String key, Work work) throws Exception {
		return execute(group, key, work);
	}

	/**
	 * Run the work as {@link #execute} or, when {@code inFlow}, as {@link #executeInFlow}, for a thread that calls
	 * {@link #flushDeferred()} when its poll's records are done with, before their offsets are committed, and before it
	 * does anything else that may take long (a consumer thread running a partition's records one after the other, or a
	 * lane worker running a batch of its lanes' records, which calls it before the batch is accounted for). The
	 * guard may then leave its last write for the record to go with this thread's next call, in the same round trip,
	 * or to {@link #flushDeferred()}: the write is not later than it would have been, as the thread's next call
	 * follows at once. The default leaves nothing for later.
	 * @param group the consumer group, the scope of the key
	 * @param key the idempotency key
	 * @param inFlow whether the record is in flow (see {@link #executeInFlow})
	 * @param work the record's work
	 * @return whether the work ran or the record was a duplicate
	 * @throws GuardUnavailableException when the guard cannot decide now
	 * @throws CrashLoopException when the record keeps killing its consumer
	 * @throws Exception what the work threw
	 */
	default Outcome executeDeferring(String group, String key, boolean inFlow, Work work) throws Exception {
		return inFlow ? executeInFlow(group, key, work) : execute(group, key, work);
	}

	/**
	 * Write what this thread's {@link #executeDeferring} calls left for later. Never throws: a write that fails is
	 * logged, as a failed write of {@link #execute} is. The default has nothing to write.
	 */
	default void flushDeferred() {
	}

	/**
	 * Return the store's name, as in metrics.
	 * @return {@code redis}, {@code jdbc} or {@code two-tier}
	 */
	String store();

	/**
	 * Look up what the guard's final word says of a key, for operators ("was this message consumed?"); never called
	 * on the record path. The default, for a guard that cannot tell, is {@link KeyState#UNKNOWN}.
	 * @param group the consumer group, the scope of the key
	 * @param key the idempotency key
	 * @return the key's state
	 */
	default KeyState state(String group, String key) {
		return KeyState.UNKNOWN;
	}

	/**
	 * Keep, in the guard's final store, that a group sent a message to its dead-letter topic, for operators; called
	 * once the dead letter is published, off the record path. The default, for a guard that keeps nothing, does
	 * nothing.
	 * @param record what was dead-lettered, where, and why
	 * @throws RuntimeException when the store cannot keep it (the dead letter itself is published)
	 */
	default void deadLettered(DeadLetterRecord record) {
	}

	/**
	 * Return what the guard's final store keeps of a message's dead letters, for every consumer group (at most 100).
	 * The default, for a guard that keeps nothing, is none.
	 * @param messageId the {@code rk-id}
	 * @return the dead letters, oldest first
	 */
	default List<DeadLetterRecord> deadLetters(String messageId) {
		return List.of();
	}

	/**
	 * Ask each of the guard's stores whether it answers now (for health checks; never called on the record path).
	 * @return one probe per store
	 */
	default List<StoreProbe> probe() {
		return List.of();
	}

	/**
	 * Whether one store answered.
	 *
	 * @param store {@code redis} or {@code ledger}
	 * @param reachable whether it answered
	 * @param essential whether the guard stops deciding without it (Redis is not essential to the two-tier guard,
	 * which falls back to the ledger)
	 * @param detail what went wrong, or {@code "ok"}
	 */
	record StoreProbe(String store, boolean reachable, boolean essential, String detail) {

		static StoreProbe of(String store, boolean essential, Runnable ping) {
			try {
				ping.run();
				return new StoreProbe(store, true, essential, "ok");
			}
			catch (RuntimeException ex) {
				return new StoreProbe(store, false, essential, ex.getClass().getSimpleName() + ": " + ex.getMessage());
			}
		}

	}

	/** What a guard's store holds for a key. */
	enum KeyState {

		/** The work ran and committed: a delivery of the key is a duplicate. */
		DONE,

		/** A delivery claimed the key and has not finished (it runs now, failed, or its consumer died). */
		PROCESSING,

		/** The store holds nothing for the key: never consumed, or forgotten after its retention. */
		ABSENT,

		/** The guard cannot tell. */
		UNKNOWN

	}

	/** What happened to a record. */
	enum Outcome {

		/** The work ran, and its effects are committed. */
		PROCESSED,

		/** The key was already done: the work did not run. */
		DUPLICATE

	}

	/** A record's work. */
	@FunctionalInterface
	interface Work {

		void run() throws Exception;

	}

}
