package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * Databases with an array aggregate (PostgreSQL, H2) admit rows with a statement whose key checks are correlated
 * scalar subqueries, one aggregating the earlier rows under the writer lease into an array. No planner turns them
 * into joins and nothing is sorted: the only plan finds the rows by message id and probes each one's key line from
 * it, whatever the table looked like when the plan was made. The join form reads every earlier row of a key once per
 * admitted row of that key: a transaction of 1,200 rows of one key took 7 s and then 49 s to admit on PostgreSQL, and
 * longer than the send time-out on H2.
 */
abstract class ArrayAggregateOutboxDialect extends OutboxDialect {

	@Override
	String admissionSql(String table, String blocking) {
		return "SELECT c.id, c.message_id, (SELECT array_agg(w.id) FROM " + table + " w"
				+ " WHERE w.key_hash = c.key_hash AND w.id < c.id AND w.status = 'NEW' AND w.lease_owner = :writer"
				+ " AND w.lease_until >= :now) FROM " + table + " c WHERE " + in("c.message_id", "ids")
				+ " AND c.lease_owner = :writer AND (SELECT 1 FROM " + table + " o WHERE o.key_hash = c.key_hash"
				+ " AND o.id < c.id AND o.status IN " + blocking + " AND o.not_before <= :now"
				+ " AND NOT (o.lease_owner IS NOT NULL AND o.lease_owner IN (:owner, :writer)"
				+ " AND o.lease_until >= :now) LIMIT 1) IS NULL";
	}

	@Override
	List<OutboxStore.Admitted> admit(NamedParameterJdbcTemplate named, String sql, MapSqlParameterSource params) {
		List<OutboxStore.Admitted> admitted = new ArrayList<>();
		named.query(sql, params, (java.sql.ResultSet rs) -> {
			List<Long> before = new ArrayList<>();
			java.sql.Array array = rs.getArray(3);
			if (array != null) {
				for (Object id : (Object[]) array.getArray()) {
					before.add(((Number) id).longValue());
				}
				before.sort(null);
			}
			admitted.add(new OutboxStore.Admitted(rs.getLong(1), rs.getString(2), before));
		});
		admitted.sort(Comparator.comparingLong(OutboxStore.Admitted::id));
		return List.copyOf(admitted);
	}

}
