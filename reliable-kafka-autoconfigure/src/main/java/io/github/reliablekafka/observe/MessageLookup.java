package io.github.reliablekafka.observe;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

import io.github.reliablekafka.idempotency.DeadLetterRecord;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyGuard.KeyState;
import io.github.reliablekafka.idempotency.IdempotencyKeyStrategy;
import io.github.reliablekafka.outbox.OutboxMessage;
import io.github.reliablekafka.outbox.OutboxOperations;
import io.github.reliablekafka.outbox.OutboxStatus;
import io.github.reliablekafka.support.RkHeaders;
import org.jspecify.annotations.Nullable;

/**
 * Answers "where is message X?" for one {@code rk-id}, from what the library already stores, with one indexed read
 * per store: the outbox row (state, attempts, last error, when it was written and confirmed); per consumer group
 * behind the idempotency guard whether its ledger holds the message done; and the dead letters the guard's store
 * keeps for it (which group, from where, to where, why). It never reads a topic.
 *
 * <p>
 * A group's ledger answers by message id only where its listeners key records by message id
 * ({@code reliable.kafka.consumer.idempotency.key=message-id}, the default, and no {@code idempotencyKey} expression on
 * the listener of the message's topic); elsewhere its state is {@code UNKNOWN}, saying how it keys. The groups asked
 * are those of this application's guarded listeners and any the caller names (the ledger is shared by every
 * application on its database or Redis); a named group of another application is taken to key as this application is
 * configured to.
 */
public final class MessageLookup {

	/** The most groups one look-up asks (one read each). */
	static final int MAX_GROUPS = 50;

	/** The longest group name asked (Kafka allows longer, the ledger's column does not). */
	private static final int MAX_GROUP_LENGTH = 255;

	private final @Nullable OutboxOperations outbox;

	private final @Nullable IdempotencyGuard guard;

	private final @Nullable IdempotencyKeyStrategy keyStrategy;

	private final Supplier<Map<String, Map<String, IdempotencyKeyStrategy>>> guardedGroups;

	/**
	 * Create the look-up; any store may be missing.
	 * @param outbox the outbox, {@code null} without one
	 * @param guard the idempotency guard, {@code null} without one
	 * @param keyStrategy the configured key strategy ({@code reliable.kafka.consumer.idempotency.key}), {@code null}
	 * without a guard
	 * @param guardedGroups the consumer groups of the application's guarded listeners, each with how its listeners
	 * key records per topic ({@code *} for a pattern), as {@code ReliableListeners#guardedGroups()} gives them
	 */
	public MessageLookup(@Nullable OutboxOperations outbox, @Nullable IdempotencyGuard guard,
			@Nullable IdempotencyKeyStrategy keyStrategy,
			Supplier<Map<String, Map<String, IdempotencyKeyStrategy>>> guardedGroups) {
		this.outbox = outbox;
		this.guard = guard;
		this.keyStrategy = keyStrategy;
		this.guardedGroups = guardedGroups;
	}

	/**
	 * Look a message up in the outbox and in the ledgers of the application's guarded consumer groups.
	 * @param messageId the {@code rk-id}
	 * @return what the stores hold
	 * @throws IllegalArgumentException when the id is not a message id
	 */
	public MessageTrail find(String messageId) {
		return find(messageId, List.of());
	}

	/**
	 * Look a message up in the outbox and in the ledgers of the application's guarded consumer groups and of the
	 * groups named.
	 * @param messageId the {@code rk-id}
	 * @param moreGroups more consumer groups to ask (at most 50 in all)
	 * @return what the stores hold
	 * @throws IllegalArgumentException when the id is not a message id or a group name is not acceptable
	 */
	public MessageTrail find(String messageId, Collection<String> moreGroups) {
		String id = checkedId(messageId);
		Map<String, Map<String, IdempotencyKeyStrategy>> groups = new TreeMap<>(this.guardedGroups.get());
		for (String group : moreGroups) {
			if (group == null || group.isBlank() || group.length() > MAX_GROUP_LENGTH) {
				throw new IllegalArgumentException("A consumer group name must be 1 to " + MAX_GROUP_LENGTH
						+ " characters");
			}
			groups.putIfAbsent(group, Map.of("*", (this.keyStrategy != null) ? this.keyStrategy
					: IdempotencyKeyStrategy.MESSAGE_ID));
		}
		if (groups.size() > MAX_GROUPS) {
			throw new IllegalArgumentException("At most " + MAX_GROUPS + " consumer groups can be asked at once, not "
					+ groups.size());
		}
		MessageTrail.Outbox outbox = outbox(id);
		String topic = (outbox.row() != null) ? outbox.row().topic() : null;
		return new MessageTrail(id, outbox, consumed(id, topic, groups), deadLetters(id));
	}

	/**
	 * Put a message's failed outbox row back in line (see {@link OutboxOperations#requeue}).
	 * @param messageId the {@code rk-id}
	 * @return what was done, with the row as it is now
	 * @throws IllegalArgumentException when the id is not a message id
	 * @throws IllegalStateException when the application has no outbox
	 */
	public Requeued requeue(String messageId) {
		String id = checkedId(messageId);
		if (this.outbox == null) {
			throw new IllegalStateException("This application has no outbox");
		}
		Optional<OutboxMessage> row = this.outbox.find(id);
		if (row.isEmpty()) {
			return new Requeued(id, false, "no outbox row holds this message id (sent directly, or deleted after its "
					+ "retention)", null);
		}
		if (row.get().status() != OutboxStatus.FAILED) {
			return new Requeued(id, false, "its outbox row is " + row.get().status() + ", only a FAILED row is "
					+ "re-queued", row.get());
		}
		boolean requeued = this.outbox.requeue(List.of(row.get().id())) == 1;
		return new Requeued(id, requeued, requeued ? "re-queued: NEW, no attempts, due now"
				: "its row changed meanwhile", this.outbox.find(id).orElse(null));
	}

	private MessageTrail.Outbox outbox(String id) {
		if (this.outbox == null) {
			return new MessageTrail.Outbox(MessageTrail.Found.NO_STORE, null, "this application has no outbox");
		}
		try {
			return this.outbox.find(id)
				.map((row) -> new MessageTrail.Outbox(MessageTrail.Found.FOUND, row, null))
				.orElseGet(() -> new MessageTrail.Outbox(MessageTrail.Found.ABSENT, null, "no outbox row holds this "
						+ "message id: it was sent directly, by another application, or its row was deleted after "
						+ "reliable.kafka.outbox.retention"));
		}
		catch (RuntimeException ex) {
			return new MessageTrail.Outbox(MessageTrail.Found.ERROR, null, describe(ex));
		}
	}

	private List<MessageTrail.Consumed> consumed(String id, @Nullable String topic,
			Map<String, Map<String, IdempotencyKeyStrategy>> groups) {
		List<MessageTrail.Consumed> consumed = new ArrayList<>();
		if (this.guard == null) {
			return consumed;
		}
		for (Map.Entry<String, Map<String, IdempotencyKeyStrategy>> group : groups.entrySet()) {
			if (topic != null && !group.getValue().containsKey(topic) && !group.getValue().containsKey("*")) {
				consumed.add(new MessageTrail.Consumed(group.getKey(), this.guard.store(), KeyState.ABSENT,
						"its listeners do not read " + topic));
				continue;
			}
			IdempotencyKeyStrategy keyedBy = keyedBy(group.getValue(), topic);
			if (keyedBy != IdempotencyKeyStrategy.MESSAGE_ID) {
				consumed.add(new MessageTrail.Consumed(group.getKey(), this.guard.store(), KeyState.UNKNOWN,
						"its listener" + ((topic != null) ? " of " + topic : "s") + " key records by " + keyedBy
								+ ", not by message id"));
				continue;
			}
			try {
				consumed.add(new MessageTrail.Consumed(group.getKey(), this.guard.store(),
						this.guard.state(group.getKey(), "id:" + id), null));
			}
			catch (RuntimeException ex) {
				consumed.add(new MessageTrail.Consumed(group.getKey(), this.guard.store(), KeyState.UNKNOWN,
						describe(ex)));
			}
		}
		return consumed;
	}

	/**
	 * How a group keys the message: by its listeners of the message's topic when the topic is known (and one of
	 * them reads it), else by message id only if every listener of the group does.
	 */
	private static IdempotencyKeyStrategy keyedBy(Map<String, IdempotencyKeyStrategy> byTopic, @Nullable String topic) {
		if (topic != null && byTopic.containsKey(topic)) {
			IdempotencyKeyStrategy onTopic = byTopic.get(topic);
			IdempotencyKeyStrategy byPattern = byTopic.get("*");
			return (byPattern != null && byPattern != IdempotencyKeyStrategy.MESSAGE_ID) ? byPattern : onTopic;
		}
		for (IdempotencyKeyStrategy strategy : byTopic.values()) {
			if (strategy != IdempotencyKeyStrategy.MESSAGE_ID) {
				return strategy;
			}
		}
		return IdempotencyKeyStrategy.MESSAGE_ID;
	}

	private MessageTrail.DeadLetters deadLetters(String id) {
		if (this.guard == null) {
			return new MessageTrail.DeadLetters(MessageTrail.Found.NO_STORE, List.of(), "dead letters are kept for "
					+ "look-up by the idempotency guard's store, and this application has no guard");
		}
		try {
			List<DeadLetterRecord> records = this.guard.deadLetters(id);
			return records.isEmpty() ? new MessageTrail.DeadLetters(MessageTrail.Found.ABSENT, List.of(), "no dead "
					+ "letter is kept for this message id: none was published by a group on this store, or it was "
					+ "forgotten after the ledger's retention") : new MessageTrail.DeadLetters(MessageTrail.Found.FOUND,
							records, null);
		}
		catch (RuntimeException ex) {
			return new MessageTrail.DeadLetters(MessageTrail.Found.ERROR, List.of(), describe(ex));
		}
	}

	private static String checkedId(@Nullable String messageId) {
		if (!RkHeaders.isMessageId(messageId)) {
			throw new IllegalArgumentException("A message id (rk-id) is a UUID such as "
					+ "0b6f3a52-9c1e-4d2a-8f5e-2b7c9d1e4f60");
		}
		// the library writes ids in lower case, and its guards key and record rk-id headers in lower case
		return messageId.toLowerCase(java.util.Locale.ROOT);
	}

	private static String describe(RuntimeException ex) {
		return ex.getClass().getSimpleName() + ": " + ex.getMessage();
	}

	/**
	 * What a re-queue did.
	 *
	 * @param messageId the {@code rk-id}
	 * @param requeued whether the row was put back in line
	 * @param detail why, or why not
	 * @param row the row as it is now, {@code null} when there is none
	 */
	public record Requeued(String messageId, boolean requeued, String detail, @Nullable OutboxMessage row) {
	}

}
