package io.github.reliablekafka.outbox;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;


/**
 * A transaction manager's connection that writes the outbox rows of its transaction with the commit, in the same
 * round trip: {@code INSERT ...; COMMIT} (PostgreSQL, with the PostgreSQL JDBC driver). Sent inside the transaction,
 * a row would cost a round trip of its own to the database; here it costs none beyond the commit's, which the
 * transaction makes anyway. The transaction stays atomic: the rows are part of the commit, which either writes them
 * with everything else the transaction did or fails and writes nothing.
 *
 * <p>
 * Rows sent after a savepoint that the transaction rolls back to are discarded with it; a rollback discards them all.
 * Everything else goes to the driver's connection unchanged. A connection is used by one thread at a time.
 */
final class CommitWriteConnection implements InvocationHandler {

	private final Connection target;

	private final List<PendingRows.PendingRow> pending = new ArrayList<>();

	/** The number of rows pending when each savepoint was set. */
	private final Map<Savepoint, Integer> savepoints = new IdentityHashMap<>();

	/** Whether rows can be written with the commit here; found out at the first row. */
	private @Nullable Boolean writesWithCommit;

	private CommitWriteConnection(Connection target) {
		this.target = target;
	}

	/**
	 * Wrap a connection.
	 * @param target the driver's (or the pool's) connection
	 * @return a connection that writes outbox rows with its commit
	 */
	static Connection wrap(Connection target) {
		return (Connection) Proxy.newProxyInstance(CommitWriteConnection.class.getClassLoader(),
				new Class<?>[] { Connection.class, PendingRows.class }, new CommitWriteConnection(target));
	}

	@Override
	public @Nullable Object invoke(Object proxy, Method method, @Nullable Object @Nullable [] args) throws Throwable {
		switch (method.getName()) {
			case "defer":
				return defer((PendingRows.PendingRow) args[0]);
			case "commit":
				commit();
				return null;
			case "rollback":
				if (args == null) {
					this.pending.clear();
					this.savepoints.clear();
				}
				else {
					rolledBackTo((Savepoint) args[0]);
				}
				break;
			case "setSavepoint":
				Savepoint savepoint = (Savepoint) call(method, args);
				this.savepoints.put(savepoint, this.pending.size());
				return savepoint;
			case "releaseSavepoint":
				this.savepoints.remove(args[0]);
				break;
			case "setAutoCommit":
				if (Boolean.TRUE.equals(args[0]) && !this.pending.isEmpty()) {
					write(false); // switching auto-commit on commits the transaction: with its rows
				}
				break;
			case "close":
			case "abort":
				this.pending.clear(); // not committed: the pool rolls the transaction back
				this.savepoints.clear();
				break;
			case "unwrap":
				if (((Class<?>) args[0]).isInstance(proxy)) {
					return proxy;
				}
				break;
			case "isWrapperFor":
				if (((Class<?>) args[0]).isInstance(proxy)) {
					return true;
				}
				break;
			case "equals":
				return proxy == args[0];
			case "hashCode":
				return System.identityHashCode(proxy);
			case "toString":
				return "Outbox commit-write connection for " + this.target;
			default:
				break;
		}
		return call(method, args);
	}

	private @Nullable Object call(Method method, @Nullable Object @Nullable [] args) throws Throwable {
		try {
			return method.invoke(this.target, args);
		}
		catch (InvocationTargetException ex) {
			throw ex.getTargetException();
		}
	}

	private boolean defer(PendingRows.PendingRow row) throws SQLException {
		if (this.writesWithCommit == null) {
			this.writesWithCommit = row.writer().writesWithCommit(this.target);
		}
		if (!this.writesWithCommit || this.target.getAutoCommit()) {
			return false;
		}
		this.pending.add(row);
		return true;
	}

	private void commit() throws SQLException {
		if (!this.pending.isEmpty()) {
			write(true);
		}
		// after a commit written with the rows the transaction is over and the driver has nothing to send; the call
		// lets a pool see that the connection was committed
		this.target.commit();
	}

	/**
	 * Write the pending rows, and commit with the last of them when {@code commit}.
	 */
	private void write(boolean commit) throws SQLException {
		List<PendingRows.PendingRow> rows = List.copyOf(this.pending);
		this.pending.clear();
		this.savepoints.clear();
		Map<OutboxWriter, List<PendingRows.PendingRow>> byWriter = new LinkedHashMap<>();
		rows.forEach((row) -> byWriter.computeIfAbsent(row.writer(), (writer) -> new ArrayList<>()).add(row));
		int left = byWriter.size();
		for (Map.Entry<OutboxWriter, List<PendingRows.PendingRow>> entry : byWriter.entrySet()) {
			entry.getKey().insertWithCommit(this.target, entry.getValue(), commit && --left == 0);
		}
	}

	private void rolledBackTo(Savepoint savepoint) {
		Integer at = this.savepoints.get(savepoint);
		if (at == null) {
			return;
		}
		// the sends' futures are failed by their transaction synchronizations (SentInTransaction)
		this.pending.subList(at, this.pending.size()).clear();
		this.savepoints.values().removeIf((position) -> position > at);
	}

}
