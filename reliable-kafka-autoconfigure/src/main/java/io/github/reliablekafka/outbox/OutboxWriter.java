package io.github.reliablekafka.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.Locale;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.PreparedStatementSetter;

/**
 * Writes the outbox's rows, through JDBC: one insert in the caller's transaction (or on its own outside one), or a
 * transaction's rows with its commit, in the commit's round trip ({@link CommitWriteConnection}). A row is written
 * {@code NEW}, due at its not-before time, and leased to its writer when the instance that writes it publishes it.
 */
final class OutboxWriter {

	private final JdbcTemplate jdbc;

	private final String table;

	private final OutboxDialect dialect;

	/**
	 * Create a writer.
	 * @param dataSource the application's data source
	 * @param table the table name, optionally schema-qualified
	 */
	OutboxWriter(DataSource dataSource, String table) {
		OutboxStore.checkTable(table);
		this.jdbc = new JdbcTemplate(dataSource);
		this.table = table;
		this.dialect = OutboxDialect.of(dataSource);
	}

	String table() {
		return this.table;
	}

	/**
	 * Write a row, in the caller's transaction when there is one, leased to the writer token of {@code owner} until
	 * {@code leaseUntil} (immediate mode: the instance that writes a row publishes it right after the commit, without
	 * claiming it first), or not leased when {@code owner} is {@code null}.
	 */
	void insert(OutboxRow row, @Nullable String owner, long leaseUntil) {
		this.jdbc.update("INSERT INTO " + this.table + INSERT_PREFIX + INSERT_VALUES,
				(PreparedStatementSetter) (statement) -> bindInsert(statement, 1, row, owner, leaseUntil));
	}

	/**
	 * Whether rows can be written with their transaction's commit, in the commit's round trip, on a connection (see
	 * {@link CommitWriteConnection} and {@link OutboxDialect#writesWithCommit}).
	 * @param connection the transaction's connection (the driver's)
	 * @return whether {@link #insertWithCommit} may be used
	 */
	boolean writesWithCommit(Connection connection) {
		return this.dialect.writesWithCommit(connection);
	}

	/**
	 * Write rows a transaction sent, and commit it with them in the same round trip when {@code commit}: {@code INSERT
	 * ...; COMMIT} (in statements of at most {@value #ROWS_PER_INSERT} rows, the last one with the commit).
	 * @param connection the transaction's connection (the driver's, not the commit-write wrapper)
	 * @param rows the rows, in the order they were sent
	 * @param commit whether to commit with them
	 * @throws OutboxWriteException when the rows could not be written (the table is missing, a value does not fit,
	 * the transaction is read-only): the transaction is not committed
	 * @throws SQLException when the commit itself failed (a deferred constraint, a serialization failure), as it would
	 * have without the rows
	 */
	void insertWithCommit(Connection connection, List<PendingRows.PendingRow> rows, boolean commit)
			throws SQLException {
		for (int from = 0; from < rows.size(); from += ROWS_PER_INSERT) {
			List<PendingRows.PendingRow> chunk = rows.subList(from, Math.min(rows.size(), from + ROWS_PER_INSERT));
			boolean last = from + ROWS_PER_INSERT >= rows.size();
			StringBuilder sql = new StringBuilder(INSERT_PREFIX.length() + chunk.size() * INSERT_VALUES.length() + 10)
				.append("INSERT INTO ").append(this.table).append(INSERT_PREFIX);
			for (int i = 0; i < chunk.size(); i++) {
				sql.append((i > 0) ? ", " : "").append(INSERT_VALUES);
			}
			boolean withCommit = commit && last;
			if (withCommit) {
				sql.append("; COMMIT");
			}
			try (PreparedStatement statement = connection.prepareStatement(sql.toString())) {
				int index = 1;
				for (PendingRows.PendingRow pending : chunk) {
					index = bindInsert(statement, index, pending.row(), pending.owner(), pending.leaseUntil());
				}
				statement.execute();
			}
			catch (SQLException ex) {
				if (withCommit && !writeFailure(ex)) {
					throw ex;
				}
				throw new OutboxWriteException("Could not write " + rows.size() + " message(s) (rk-id="
						+ rows.get(0).row().messageId() + ((rows.size() > 1) ? ", ..." : "") + ") to outbox table "
						+ this.table + " with the commit; the transaction is not committed and nothing was sent: "
						+ ex.getMessage(), ex);
			}
		}
	}

	/**
	 * Whether a failure of {@code INSERT ...; COMMIT} is the insert's: the table or a column is missing or not
	 * allowed, a value does not fit, the transaction may not write, or a constraint of the outbox table itself. Any
	 * other failure is the commit's, and is reported as the commit's.
	 */
	private boolean writeFailure(SQLException ex) {
		String state = ex.getSQLState();
		if (state == null) {
			return false;
		}
		String unqualified = this.table.substring(this.table.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
		return state.startsWith("42") || state.startsWith("22") || state.startsWith("25")
				|| (state.startsWith("23") && String.valueOf(ex.getMessage()).toLowerCase(Locale.ROOT).contains(unqualified));
	}

	private static final int ROWS_PER_INSERT = 500;

	private static final String INSERT_PREFIX = " (message_id, topic, message_key, key_hash, payload, headers, "
			+ "created_at, not_before, next_attempt_at, attempts, status, lease_owner, lease_until) VALUES ";

	private static final String INSERT_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'NEW', ?, ?)";

	private static int bindInsert(PreparedStatement statement, int first, OutboxRow row, @Nullable String owner,
			long leaseUntil) throws SQLException {
		int index = first;
		statement.setString(index++, row.messageId());
		statement.setString(index++, row.topic());
		statement.setString(index++, row.key());
		statement.setObject(index++, OutboxRow.keyHash(row.topic(), row.key()), Types.BIGINT);
		statement.setBytes(index++, row.payload());
		statement.setBytes(index++, row.headers());
		statement.setLong(index++, row.createdAt());
		statement.setLong(index++, row.notBefore());
		statement.setLong(index++, row.notBefore());
		statement.setString(index++, (owner != null) ? OutboxStore.writer(owner) : null);
		statement.setObject(index++, (owner != null) ? leaseUntil : null, Types.BIGINT);
		return index;
	}

}
