package io.github.reliablekafka.observe;

import java.util.List;

import io.github.reliablekafka.idempotency.DeadLetterRecord;
import io.github.reliablekafka.idempotency.IdempotencyGuard.KeyState;
import io.github.reliablekafka.outbox.OutboxMessage;
import org.jspecify.annotations.Nullable;

/**
 * What the library's stores hold for one message id: see {@link MessageLookup}.
 *
 * @param messageId the {@code rk-id}
 * @param outbox what the outbox holds
 * @param consumed what each consumer group's ledger holds
 * @param deadLetters what the idempotency store keeps of the message's dead letters
 */
public record MessageTrail(String messageId, Outbox outbox, List<Consumed> consumed, DeadLetters deadLetters) {

	/** Whether a store was asked and what it found. */
	public enum Found {

		/** The store holds the message. */
		FOUND,

		/** The store holds nothing for the message. */
		ABSENT,

		/** The application has no such store. */
		NO_STORE,

		/** The store could not be read; see the detail. */
		ERROR

	}

	/**
	 * What the outbox holds.
	 *
	 * @param found whether the outbox holds a row for the message
	 * @param row the row, when found
	 * @param detail what absence or an error means, {@code null} when found
	 */
	public record Outbox(Found found, @Nullable OutboxMessage row, @Nullable String detail) {
	}

	/**
	 * What the idempotency store keeps of a message's dead letters, for every consumer group (also of other
	 * applications on the same store).
	 *
	 * @param found {@code FOUND} with at least one dead letter, {@code ABSENT} when none is kept, {@code NO_STORE}
	 * without an idempotency guard (dead letters are then not kept), {@code ERROR} when the store could not be read
	 * @param records the dead letters, oldest first
	 * @param detail what absence or an error means, {@code null} when found
	 */
	public record DeadLetters(Found found, List<DeadLetterRecord> records, @Nullable String detail) {
	}

	/**
	 * What one consumer group's ledger holds.
	 *
	 * @param group the consumer group
	 * @param store the guard's store: {@code redis}, {@code jdbc} or {@code two-tier}
	 * @param state {@code DONE} when the group consumed the message (its effect committed), {@code PROCESSING} when
	 * a delivery claimed it and has not finished, {@code ABSENT} when the ledger holds nothing (not consumed, or
	 * forgotten after its retention), {@code UNKNOWN} when it cannot tell
	 * @param detail why it cannot tell, {@code null} otherwise
	 */
	public record Consumed(String group, String store, KeyState state, @Nullable String detail) {
	}

}
