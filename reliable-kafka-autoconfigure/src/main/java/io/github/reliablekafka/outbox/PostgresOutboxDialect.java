package io.github.reliablekafka.outbox;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.util.ClassUtils;

/**
 * PostgreSQL.
 * <ul>
 * <li>A list parameter is one array ({@code = ANY(:ids)}), so that a statement's text, hence its parsed and prepared
 * statement, is the same for every list length.</li>
 * <li>Bookkeeping commits without waiting for the WAL flush ({@code synchronous_commit = off}, for those transactions
 * only): the application's transactions, and with them the rows, stay durable; a server crash can forget the last
 * fraction of a second of leases and marks, and the rows concerned are published again (duplicates, never
 * losses).</li>
 * <li>Bookkeeping statements are planned per execution unless told otherwise: a plan cached while the table was small
 * or not yet analyzed must not outlive that (a generic plan of an admission written with a join and a NOT EXISTS,
 * made on an empty table, read every unfinished row once per admitted row). Only the admission, written so that its
 * one plan reaches each row through an index, keeps one plan (planning it cost as much as running it).</li>
 * <li>No sequential or bitmap scans in bookkeeping: every statement reaches its rows through an index, in the index's
 * order (a planner that believed few rows were new, before the table's first ANALYZE, took a bitmap of every new row
 * and sorted it instead of reading the oldest few in order).</li>
 * <li>A transaction's rows are written with its commit ({@code INSERT ...; COMMIT}) when the driver is pgjdbc with
 * {@code autosave=never}, its default: with a savepoint around each statement the driver would try to release it
 * after the commit.</li>
 * </ul>
 */
final class PostgresOutboxDialect extends ArrayAggregateOutboxDialect {

	@Override
	String in(String column, String parameter) {
		return column + " = ANY(:" + parameter + ")";
	}

	@Override
	Object values(Collection<?> values) {
		return values.stream().anyMatch(String.class::isInstance) ? values.toArray(String[]::new)
				: values.toArray(Long[]::new);
	}

	/** One statement for every row: the rows' ids, partitions and offsets as three arrays, joined by position. */
	@Override
	int markSent(JdbcTemplate jdbc, NamedParameterJdbcTemplate named, String table, List<OutboxStore.Sent> sent,
			String owner, String writer, long now) {
		return named.update("UPDATE " + table + " AS t SET status = 'SENT', sent_at = :now, sent_partition = v.p,"
				+ " sent_offset = v.o, lease_owner = NULL, lease_until = NULL FROM unnest(CAST(:ids AS bigint[]),"
				+ " CAST(:partitions AS integer[]), CAST(:offsets AS bigint[])) AS v(id, p, o) WHERE t.id = v.id AND"
				+ " t.lease_owner IN (:owner, :writer) AND t." + OutboxClaims.UNFINISHED,
				new MapSqlParameterSource("ids", sent.stream().map(OutboxStore.Sent::id).toArray(Long[]::new))
					.addValue("partitions", sent.stream().map(OutboxStore.Sent::partition).toArray(Integer[]::new))
					.addValue("offsets", sent.stream().map(OutboxStore.Sent::offset).toArray(Long[]::new))
					.addValue("owner", owner)
					.addValue("writer", writer)
					.addValue("now", now));
	}

	@Override
	void beginBookkeeping(JdbcTemplate jdbc, boolean onePlan) {
		jdbc.queryForObject("SELECT set_config('synchronous_commit', 'off', true),"
				+ " set_config('plan_cache_mode', ?, true), set_config('enable_seqscan', 'off', true),"
				+ " set_config('enable_bitmapscan', 'off', true)", (rs, row) -> 0,
				onePlan ? "force_generic_plan" : "force_custom_plan");
	}

	@Override
	boolean admissionOnePlan() {
		return true;
	}

	@Override
	boolean writesWithCommit(Connection connection) {
		try {
			Class<?> pgConnection = ClassUtils.forName("org.postgresql.PGConnection",
					connection.getClass().getClassLoader());
			if (!connection.isWrapperFor(pgConnection)) {
				return false;
			}
			Object autosave = pgConnection.getMethod("getAutosave").invoke(connection.unwrap(pgConnection));
			return autosave instanceof Enum<?> mode && "NEVER".equals(mode.name());
		}
		catch (ReflectiveOperationException | SQLException | LinkageError ex) {
			return false;
		}
	}

}
