package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.transaction.support.TransactionSynchronization;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a message sent in a transaction learns its end, driven the way Spring drives a synchronization: told of each
 * savepoint set and rolled back to while registered, then of the transaction's completion. The same rules on a real
 * transaction manager and database: {@link AbstractOutboxTests}.
 */
class SentInTransactionTests {

	private final List<String> ends = new ArrayList<>();

	private SentInTransaction sent(String name) {
		return new SentInTransaction(() -> this.ends.add(name + " committed"),
				(outcome) -> this.ends.add(name + " " + outcome));
	}

	@Test
	void eachEndOfTheTransactionIsToldAsItIs() {
		SentInTransaction committed = sent("a");
		SentInTransaction rolledBack = sent("b");
		SentInTransaction inDoubt = sent("c");
		committed.afterCompletion(TransactionSynchronization.STATUS_COMMITTED);
		rolledBack.afterCompletion(TransactionSynchronization.STATUS_ROLLED_BACK);
		inDoubt.afterCompletion(TransactionSynchronization.STATUS_UNKNOWN);
		assertThat(this.ends).containsExactly("a committed", "b ROLLED_BACK", "c IN_DOUBT");
	}

	@Test
	void aRollbackToASavepointSetAfterTheSendKeepsItAndOneSetBeforeDiscardsItOnce() {
		Object outer = new Object();
		Object inner = new Object();
		SentInTransaction before = sent("before"); // sent before both savepoints
		before.savepoint(outer);
		SentInTransaction between = sent("between"); // sent after the outer savepoint, before the inner one
		before.savepoint(inner);
		between.savepoint(inner);
		SentInTransaction innermost = sent("innermost");
		for (SentInTransaction each : List.of(before, between, innermost)) {
			each.savepointRollback(inner);
		}
		assertThat(this.ends).containsExactly("innermost ROLLED_BACK_TO_SAVEPOINT");
		for (SentInTransaction each : List.of(before, between, innermost)) {
			each.savepointRollback(outer);
		}
		assertThat(this.ends).containsExactly("innermost ROLLED_BACK_TO_SAVEPOINT", "between ROLLED_BACK_TO_SAVEPOINT");
		for (SentInTransaction each : List.of(before, between, innermost)) {
			each.afterCompletion(TransactionSynchronization.STATUS_COMMITTED);
		}
		assertThat(this.ends).containsExactly("innermost ROLLED_BACK_TO_SAVEPOINT", "between ROLLED_BACK_TO_SAVEPOINT",
				"before committed");
	}

	@Test
	void aDiscardedSendHearsNothingOfTheTransactionsRollback() {
		SentInTransaction sent = sent("a");
		sent.savepointRollback(new Object());
		sent.afterCompletion(TransactionSynchronization.STATUS_ROLLED_BACK);
		assertThat(this.ends).containsExactly("a ROLLED_BACK_TO_SAVEPOINT");
	}

}
