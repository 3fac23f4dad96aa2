package io.github.reliablekafka.outbox;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.transaction.support.TransactionSynchronization;

/**
 * What becomes of one message sent in a transaction: published after the commit, failed at a rollback, and failed
 * at once when the transaction rolls back to a savepoint set before the message was sent (the row went with the
 * savepoint, on every database and whichever way it was written). A commit whose outcome the transaction manager
 * does not know ({@link #STATUS_UNKNOWN}: the commit itself failed) is told as such, not as a rollback.
 *
 * <p>
 * A synchronization is told of every savepoint set while it is registered. A rollback to a savepoint it was told of
 * leaves it alone (it was sent before that savepoint); a rollback to one it was not told of means it was registered,
 * so sent, after that savepoint was set.
 */
final class SentInTransaction implements TransactionSynchronization {

	/**
	 * How a message ended that was not published.
	 */
	enum Outcome {

		/** The transaction rolled back. */
		ROLLED_BACK,

		/** The transaction rolled back to a savepoint set before the message was sent. */
		ROLLED_BACK_TO_SAVEPOINT,

		/** The commit failed; whether the database committed is not known. */
		IN_DOUBT

	}

	/**
	 * Told what became of a message that was not published.
	 */
	@FunctionalInterface
	interface NotCommitted {

		void ended(Outcome outcome);

	}

	private final Runnable committed;

	private final NotCommitted notCommitted;

	/** The savepoints set since this was registered. */
	private @Nullable Set<Object> savepointsSince;

	private boolean discarded;

	SentInTransaction(Runnable committed, NotCommitted notCommitted) {
		this.committed = committed;
		this.notCommitted = notCommitted;
	}

	@Override
	public void savepoint(Object savepoint) {
		if (this.savepointsSince == null) {
			this.savepointsSince = Collections.newSetFromMap(new IdentityHashMap<>());
		}
		this.savepointsSince.add(savepoint);
	}

	@Override
	public void savepointRollback(Object savepoint) {
		if (this.discarded || (this.savepointsSince != null && this.savepointsSince.contains(savepoint))) {
			return;
		}
		this.discarded = true;
		this.notCommitted.ended(Outcome.ROLLED_BACK_TO_SAVEPOINT);
	}

	@Override
	public void afterCompletion(int status) {
		if (this.discarded) {
			return;
		}
		switch (status) {
			case STATUS_COMMITTED -> this.committed.run();
			case STATUS_ROLLED_BACK -> this.notCommitted.ended(Outcome.ROLLED_BACK);
			default -> this.notCommitted.ended(Outcome.IN_DOUBT);
		}
	}

}
