package io.github.reliablekafka.outbox;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * The statements that give rows to a relay: the poll's claim of due rows and the admission of the rows an instance
 * just committed under its writer lease. {@link OutboxStore} runs them in its bookkeeping transactions.
 *
 * <p>
 * Ordering rule shared by both: a row may go only when no earlier due row of its key (same key hash of topic and key,
 * lower id) holds the key back: leased by another instance, waiting for its retry, or {@code FAILED} when failed rows
 * block. Rows the claiming instance holds itself do not hold it back: it publishes them in order.
 */
final class OutboxClaims {

	/** A row that holds its key's later rows back: not claimable now, and not held by the claiming owner. */
	private static final String HOLDS_BACK = "o.status <> 'NEW' OR o.next_attempt_at > :now"
			+ " OR (o.lease_owner IS NOT NULL AND o.lease_owner <> :owner AND o.lease_until >= :now)";

	/**
	 * A row is not finished ({@code NEW}), written so that no index can serve it: in a statement that names its rows
	 * by id, the primary key is the way in. With {@code status = 'NEW'}, a planner that thinks few rows are new (no
	 * statistics yet, or a table of mostly confirmed rows) scans the status index's new entries, dead ones included,
	 * and filters the ids out of them: 180 us a row instead of a few (seen on PostgreSQL).
	 */
	static final String UNFINISHED = "status NOT IN ('SENT', 'FAILED')";

	private static final String COLUMNS = "id, message_id, topic, message_key, payload, headers, created_at, "
			+ "not_before, attempts";

	private static final RowMapper<OutboxRow> ROW = (rs, rowNum) -> new OutboxRow(rs.getLong("id"),
			rs.getString("message_id"), rs.getString("topic"), rs.getString("message_key"), rs.getBytes("payload"),
			rs.getBytes("headers"), rs.getLong("created_at"), rs.getLong("not_before"), rs.getInt("attempts"));

	private final NamedParameterJdbcTemplate named;

	private final String table;

	private final OutboxDialect dialect;

	OutboxClaims(NamedParameterJdbcTemplate named, String table, OutboxDialect dialect) {
		this.named = named;
		this.table = table;
		this.dialect = dialect;
	}

	/**
	 * Describe a claim of the oldest due rows that may go now to an owner: for each key, the rows from the start of its
	 * line up to the first one that must hold the rest back. Rows the owner holds already neither hold it back nor are
	 * taken again. Only the oldest {@code 5 x limit} unconfirmed due rows the owner does not hold are considered, so a
	 * claim costs the same however large the backlog is. Rows created after {@code createdAtMost} are left to the
	 * instance that committed them (immediate mode publishes its own rows right after the commit): such a row is not
	 * claimed, and it holds its key's later rows back like a row leased elsewhere. Delayed rows (a not-before time
	 * after their creation) are not published by their writer: they are claimed once due, however young.
	 * @param owner the owner token
	 * @param now the current time
	 * @param leaseUntil the lease's end; unique per claim of this owner
	 * @param limit the most rows to claim
	 * @param failedBlocks whether a {@code FAILED} row holds its key
	 * @param createdAtMost the latest creation time of a row this claim may take
	 * @return the claim, to run with {@link #candidates} and then {@link #lease}
	 */
	Claim claimDue(String owner, long now, long leaseUntil, int limit, boolean failedBlocks, long createdAtMost) {
		MapSqlParameterSource params = new MapSqlParameterSource().addValue("owner", owner)
			.addValue("now", now)
			.addValue("until", leaseUntil)
			.addValue("limit", limit)
			.addValue("window", limit * 5)
			.addValue("youngest", createdAtMost);
		// rows the owner holds neither hold their key back nor are taken again: left out of the window
		String blocking = blocking(failedBlocks);
		return new Claim("SELECT * FROM " + this.table + " WHERE status IN " + blocking + " AND not_before <= :now"
				+ " AND NOT (lease_owner IS NOT NULL AND lease_owner = :owner AND lease_until >= :now)"
				+ " ORDER BY id LIMIT :window",
				HOLDS_BACK + " OR (o.created_at > :youngest AND o.not_before <= o.created_at)", blocking, params);
	}

	/**
	 * A claim's statements and parameters.
	 * @param source selects the rows considered
	 * @param holdsBack whether a considered row holds its key's later rows back
	 * @param blocking the statuses of a row that holds its key while unconfirmed
	 * @param params the parameters
	 */
	record Claim(String source, String holdsBack, String blocking, MapSqlParameterSource params) {
	}

	/**
	 * Find the claimable rows among those the claim considers: the running count of rows that hold their key back
	 * must still be zero at the row. A key's line is its rows with the same key hash (64-bit, of topic and key:
	 * sorting numbers is much cheaper than sorting the keys' text, and two keys sharing a hash only wait for each
	 * other, never overtake); rows without a key are each a line of their own.
	 * @return the candidates' ids
	 */
	List<Long> candidates(Claim claim) {
		return this.named.queryForList("SELECT c.id FROM (SELECT o.id, o.message_id, o.status,"
				+ " o.next_attempt_at, o.lease_owner, o.lease_until, SUM(CASE WHEN " + claim.holdsBack()
				+ " THEN 1 ELSE 0 END) OVER (PARTITION BY o.key_hash,"
				+ " CASE WHEN o.key_hash IS NULL THEN o.id END ORDER BY o.id ROWS UNBOUNDED PRECEDING) AS holds"
				+ " FROM (" + claim.source() + ") o) c WHERE c.holds = 0 AND c.status = 'NEW'"
				+ " AND c.next_attempt_at <= :now AND (c.lease_owner IS NULL OR c.lease_until < :now)"
				+ " ORDER BY c.id LIMIT :limit", claim.params(), Long.class);
	}

	/**
	 * Lease the candidates fenced by the lease condition, give back those behind an earlier row of their key that
	 * another claim leased meanwhile, and read back what this owner got.
	 * @return the claimed rows, by id
	 */
	List<OutboxRow> lease(Claim claim, List<Long> candidates) {
		if (candidates.isEmpty()) {
			return List.of();
		}
		MapSqlParameterSource params = claim.params();
		params.addValue("candidates", this.dialect.values(candidates));
		this.named.update("UPDATE " + this.table + " SET lease_owner = :owner, lease_until = :until"
				+ " WHERE " + in("id", "candidates") + " AND " + UNFINISHED
				+ " AND (lease_owner IS NULL OR lease_until < :now)", params);
		// two instances can compute their candidates from the same moment and each lease part of one key's line;
		// a leased row behind an earlier unconfirmed row of its key that this owner does not hold goes back. A scalar
		// subquery, not a join: the search goes from each leased row to its key's earlier rows, whatever the planner
		// believes about how many rows are new (a join let it start from every new row: 1 s a claim)
		List<Long> behind = this.named.queryForList("SELECT c.id FROM " + this.table + " c WHERE c."
				+ in("id", "candidates") + " AND c.lease_owner = :owner AND c.lease_until = :until AND (SELECT o.id"
				+ " FROM " + this.table + " o WHERE o.key_hash = c.key_hash AND o.status IN " + claim.blocking()
				+ " AND o.id < c.id AND o.not_before <= :now AND NOT (o.lease_owner IS NOT NULL"
				+ " AND o.lease_owner = :owner AND o.lease_until >= :now) ORDER BY o.id LIMIT 1) IS NOT NULL",
				params, Long.class);
		if (!behind.isEmpty()) {
			params.addValue("behind", this.dialect.values(behind));
			this.named.update("UPDATE " + this.table + " SET lease_owner = NULL, lease_until = NULL"
					+ " WHERE " + in("id", "behind") + " AND lease_owner = :owner AND lease_until = :until", params);
		}
		return this.named.query("SELECT " + COLUMNS + " FROM " + this.table + " WHERE " + in("id", "candidates")
				+ " AND lease_owner = :owner AND lease_until = :until ORDER BY id", params, ROW);
	}

	/**
	 * Admit rows an owner just committed under its writer lease (see {@link OutboxWriter}): a row may be published now
	 * when no earlier unconfirmed due row of its key is held by another instance, waits for its retry, or is not held
	 * at all (with {@code FAILED} rows when they block). The others are given back (not leased), to be claimed in
	 * their key's line by a poll. Earlier rows of the key under the owner's own writer lease are named with each
	 * admitted row: the owner's relay knows whether it already has them (then the admitted row goes after them) or
	 * whether they are still on their way from their commit (then it must give the row back).
	 * @param owner the owner token
	 * @param now the current time
	 * @param failedBlocks whether a {@code FAILED} row holds its key
	 * @param messageIds the rows' message ids
	 * @return the admitted rows, in id order
	 */
	List<OutboxStore.Admitted> admitCommitted(String owner, long now, boolean failedBlocks,
			Collection<String> messageIds) {
		MapSqlParameterSource params = new MapSqlParameterSource().addValue("owner", owner)
			.addValue("now", now)
			.addValue("ids", this.dialect.values(messageIds))
			.addValue("writer", OutboxStore.writer(owner));
		List<OutboxStore.Admitted> admitted = this.dialect.admit(this.named,
				this.dialect.admissionSql(this.table, blocking(failedBlocks)), params);
		Set<String> admittedIds = new HashSet<>();
		admitted.forEach((row) -> admittedIds.add(row.messageId()));
		if (admittedIds.size() < messageIds.size()) {
			List<String> refused = messageIds.stream().filter((id) -> !admittedIds.contains(id)).toList();
			params.addValue("refused", this.dialect.values(refused));
			this.named.update("UPDATE " + this.table + " SET lease_owner = NULL, lease_until = NULL"
					+ " WHERE " + in("message_id", "refused") + " AND lease_owner = :writer", params);
		}
		return admitted;
	}

	private String in(String column, String parameter) {
		return this.dialect.in(column, parameter);
	}

	/**
	 * The statuses of a row that holds its key while unconfirmed, as a literal list: on PostgreSQL the unfinished
	 * rows' partial indexes serve a query only when its condition visibly implies theirs, which a parameter does not.
	 */
	static String blocking(boolean failedBlocks) {
		return failedBlocks ? "('NEW', 'FAILED')" : "('NEW')";
	}

}
