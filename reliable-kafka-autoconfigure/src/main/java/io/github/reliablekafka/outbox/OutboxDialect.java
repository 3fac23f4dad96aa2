package io.github.reliablekafka.outbox;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.sql.DataSource;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Everything the outbox does differently per database: how a list parameter is passed, what a bookkeeping
 * transaction sets first, how its isolation is chosen, how just-committed rows are admitted, and whether rows can be
 * written with their transaction's commit. This class holds the standard forms (used by MySQL/MariaDB and any other
 * database); {@link PostgresOutboxDialect}, {@link MySqlOutboxDialect} and {@link H2OutboxDialect} change what their
 * database needs. Chosen once from the data source's product name.
 */
class OutboxDialect {

	/** The standard forms, for a database without a dialect of its own. */
	static final OutboxDialect STANDARD = new OutboxDialect();

	/**
	 * Return the dialect of a data source's database.
	 * @param dataSource the data source
	 * @return its dialect, {@link #STANDARD} when the database has none or cannot be reached
	 */
	static OutboxDialect of(DataSource dataSource) {
		String product = productName(dataSource);
		if (product.contains("postgresql")) {
			return new PostgresOutboxDialect();
		}
		if (product.contains("mysql") || product.contains("mariadb")) {
			return new MySqlOutboxDialect();
		}
		if (product.contains("h2")) {
			return new H2OutboxDialect();
		}
		return STANDARD;
	}

	/**
	 * A condition that a column is one of a list parameter's values; the parameter's value must come from
	 * {@link #values}. Standard: an expanded {@code IN} list.
	 */
	String in(String column, String parameter) {
		return column + " IN (:" + parameter + ")";
	}

	/** The value of a list parameter of {@link #in}. */
	Object values(Collection<?> values) {
		return values;
	}

	/** Set up the template that runs the relay's bookkeeping transactions (their isolation). */
	void configure(TransactionTemplate bookkeeping) {
	}

	/**
	 * Run first in each bookkeeping transaction.
	 * @param onePlan whether its statements may keep one plan for every execution
	 */
	void beginBookkeeping(JdbcTemplate jdbc, boolean onePlan) {
	}

	/** Whether the admission's statement may keep one plan for every execution. */
	boolean admissionOnePlan() {
		return false;
	}

	/**
	 * The admission's statement: the rows named by {@code :ids} still under the writer lease {@code :writer} that no
	 * earlier unconfirmed due row of their key holds back, each with the earlier rows of its key under the same writer
	 * lease. Parameters {@code :ids}, {@code :writer}, {@code :now}, {@code :owner}. Standard: a join to the earlier
	 * rows under the writer lease, one result row per pair.
	 * @param table the outbox table
	 * @param blocking the statuses that hold a key back, as a literal list
	 */
	String admissionSql(String table, String blocking) {
		return "SELECT c.id, c.message_id, w.id FROM " + table + " c LEFT JOIN " + table
				+ " w ON w.key_hash = c.key_hash AND w.id < c.id AND w.status = 'NEW' AND w.lease_owner = :writer"
				+ " AND w.lease_until >= :now WHERE " + in("c.message_id", "ids")
				// a row under a writer lease is NEW (every status change clears the lease); not naming the status
				// keeps the planner on the message id index
				+ " AND c.lease_owner = :writer AND NOT EXISTS (SELECT 1 FROM " + table
				+ " o WHERE o.key_hash = c.key_hash AND o.id < c.id AND o.status IN " + blocking
				+ " AND o.not_before <= :now AND NOT (o.lease_owner IS NOT NULL AND o.lease_owner IN (:owner, :writer)"
				+ " AND o.lease_until >= :now)) ORDER BY c.id, w.id";
	}

	/**
	 * Run the admission's statement.
	 * @return the admitted rows, in id order
	 */
	List<OutboxStore.Admitted> admit(NamedParameterJdbcTemplate named, String sql, MapSqlParameterSource params) {
		Map<Long, OutboxStore.Admitted> admitted = new LinkedHashMap<>();
		named.query(sql, params, (ResultSet rs) -> {
			String messageId = rs.getString(2);
			OutboxStore.Admitted row = admitted.computeIfAbsent(rs.getLong(1),
					(id) -> new OutboxStore.Admitted(id, messageId, new ArrayList<>()));
			long before = rs.getLong(3);
			if (!rs.wasNull()) {
				row.writerRowsBefore().add(before);
			}
		});
		return List.copyOf(admitted.values());
	}

	/**
	 * Mark rows confirmed by Kafka, each with where it was written, in the caller's bookkeeping transaction.
	 * Standard: one {@code UPDATE} per row, sent as one JDBC batch.
	 * @return how many were still leased to the owner (or its writer token) and unfinished
	 */
	int markSent(JdbcTemplate jdbc, NamedParameterJdbcTemplate named, String table, List<OutboxStore.Sent> sent,
			String owner, String writer, long now) {
		int[][] counts = jdbc.batchUpdate("UPDATE " + table + " SET status = 'SENT', sent_at = ?, sent_partition = ?,"
				+ " sent_offset = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner IN (?, ?) AND "
				+ OutboxClaims.UNFINISHED, sent, sent.size(), (ps, row) -> {
					ps.setLong(1, now);
					ps.setInt(2, row.partition());
					ps.setLong(3, row.offset());
					ps.setLong(4, row.id());
					ps.setString(5, owner);
					ps.setString(6, writer);
				});
		int marked = 0;
		for (int[] batch : counts) {
			for (int count : batch) {
				// a driver that cannot tell a row's count in a batch says SUCCESS_NO_INFO: the row was updated
				marked += (count == java.sql.Statement.SUCCESS_NO_INFO) ? 1 : Math.max(0, count);
			}
		}
		return marked;
	}

	/**
	 * Whether a transaction's rows can be written with its commit, in the commit's round trip, on this connection
	 * ({@code INSERT ...; COMMIT} as one statement).
	 */
	boolean writesWithCommit(Connection connection) {
		return false;
	}

	/** The data source's database product name, in lower case; empty when it cannot be read. */
	static String productName(DataSource dataSource) {
		try {
			String product = JdbcUtils.extractDatabaseMetaData(dataSource, DatabaseMetaData::getDatabaseProductName);
			return product.toLowerCase(Locale.ROOT);
		}
		catch (Exception ex) {
			return "";
		}
	}

}
