package io.github.reliablekafka.outbox;

import java.sql.SQLException;

import org.jspecify.annotations.Nullable;

/**
 * A transaction's connection that writes outbox rows with its commit: the rows a send records in the transaction are
 * held until the transaction manager commits, then inserted in the same round trip as the {@code COMMIT} (see
 * {@link CommitWriteConnection}).
 */
interface PendingRows {

	/**
	 * Hold a row until the commit, if this connection can write it with the commit.
	 * @param row the row and where it goes
	 * @return whether it is held; if not, the caller inserts it now
	 * @throws SQLException if the connection cannot tell whether it is in a transaction
	 */
	boolean defer(PendingRow row) throws SQLException;

	/**
	 * A row waiting for its transaction's commit.
	 * @param writer writes it to its outbox table
	 * @param row the row
	 * @param owner the instance whose writer lease it gets, or {@code null} for none
	 * @param leaseUntil the end of that lease
	 */
	record PendingRow(OutboxWriter writer, OutboxRow row, @Nullable String owner, long leaseUntil) {
	}

}
