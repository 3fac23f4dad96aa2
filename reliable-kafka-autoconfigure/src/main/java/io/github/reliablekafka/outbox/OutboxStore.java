package io.github.reliablekafka.outbox;

import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import io.github.reliablekafka.support.LibraryTable;
import org.jspecify.annotations.Nullable;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.Assert;

/**
 * The relay's statements on the outbox table, through JDBC: claims, admissions, marks, releases, lease renewals and
 * retention sweeps, each in a transaction of its own. Every statement that changes a leased row is fenced by the
 * lease owner, so an instance whose lease ran out can no longer touch a row another instance has claimed. Rows are
 * written by {@link OutboxWriter}; operators read and re-queue them through {@link JdbcOutboxOperations}.
 *
 * <p>
 * Ordering rule shared by every claim: a row is claimable only when no earlier due row of its key (same key hash of
 * topic and key, lower id) holds the key back: leased by another instance, waiting for its retry, or {@code FAILED} when
 * failed rows block. Rows the claiming instance holds itself do not hold it back: it publishes them in order.
 *
 * <p>
 * <b>Why over 400 lines:</b> it holds every statement the relay runs on the table, and each has variants per
 * database (PostgreSQL, MySQL/MariaDB, H2: locking clauses, {@code in} or {@code values} lists, session hints).
 * Moving those variants into one dialect per database is planned as a change of its own.
 */
public final class OutboxStore {

	private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

	/** The outbox's schema scripts, one per database. */
	public static final String SCHEMA_LOCATION = "classpath:io/github/reliablekafka/outbox/schema-@@platform@@.sql";

	/** A row that holds its key's later rows back: not claimable now, and not held by the claiming owner. */
	private static final String HOLDS_BACK = "o.status <> 'NEW' OR o.next_attempt_at > :now"
			+ " OR (o.lease_owner IS NOT NULL AND o.lease_owner <> :owner AND o.lease_until >= :now)";

	/**
	 * A row is not finished ({@code NEW}), written so that no index can serve it: in a statement that names its rows
	 * by id, the primary key is the way in. With {@code status = 'NEW'}, a planner that thinks few rows are new (no
	 * statistics yet, or a table of mostly confirmed rows) scans the status index's new entries, dead ones included,
	 * and filters the ids out of them: 180 us a row instead of a few (seen on PostgreSQL).
	 */
	private static final String UNFINISHED = "status NOT IN ('SENT', 'FAILED')";

	private static final String COLUMNS = "id, message_id, topic, message_key, payload, headers, created_at, "
			+ "not_before, attempts";

	private final JdbcTemplate jdbc;

	private final NamedParameterJdbcTemplate named;

	private final String table;

	/**
	 * The relay's own bookkeeping (a claim, an admission, a batch of marks, a retention sweep) runs in a transaction
	 * of its own, so that a lease renewal cannot slip between a claim's lease and its read-back.
	 */
	private final TransactionTemplate bookkeepingTransactions;

	/**
	 * On PostgreSQL, that bookkeeping commits without waiting for the WAL flush ({@code SET LOCAL
	 * synchronous_commit = off}, for those transactions only): the application's transactions, and with them the
	 * rows, stay durable; a server crash can forget the last fraction of a second of leases and marks, and the rows
	 * concerned are published again (duplicates, never losses).
	 */
	private final boolean relaxedCommits;

	/** Runs between a claim's choice of candidates and their lease: lets a test put another claim there. */
	private volatile Runnable afterCandidates = () -> {
	};

	/** PostgreSQL: list parameters are passed as one array (see {@link #in}). */
	private final boolean arrays;

	private final boolean postgres;

	/**
	 * PostgreSQL and H2 admit rows with {@link #admitCommittedOnePlan}, whose key checks are scalar subqueries (one
	 * aggregating the earlier rows into an array). The join form reads every earlier row of a key once per admitted
	 * row of that key: a transaction of 1,200 rows of one key took 7 s and then 49 s to admit on PostgreSQL, and
	 * longer than the send time-out on H2; MariaDB, which has no array aggregate, admits them in time with it.
	 */
	private final boolean arrayAggregates;

	/**
	 * Create a store.
	 * @param dataSource the application's data source
	 * @param table the table name, optionally schema-qualified
	 */
	public OutboxStore(DataSource dataSource, String table) {
		checkTable(table);
		this.jdbc = new JdbcTemplate(dataSource);
		this.named = new NamedParameterJdbcTemplate(this.jdbc);
		this.table = table;
		String product = productName(dataSource);
		this.postgres = product.contains("postgresql");
		this.arrayAggregates = this.postgres || product.contains("h2");
		this.relaxedCommits = this.postgres;
		this.arrays = this.postgres;
		this.bookkeepingTransactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		this.bookkeepingTransactions.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		if (product.contains("mysql") || product.contains("mariadb")) {
			// InnoDB's default (repeatable read) would let a claim's check for rows leased by others since its first
			// read see that first read's snapshot; every statement must see what is committed when it runs
			this.bookkeepingTransactions.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
		}
	}

	/** Run relay bookkeeping in a transaction of its own (on PostgreSQL, not waiting for the WAL flush). */
	private <T> T bookkeeping(java.util.function.Supplier<T> work) {
		return bookkeeping(false, work);
	}

	/**
	 * Run relay bookkeeping in a transaction of its own (on PostgreSQL, not waiting for the WAL flush).
	 * @param onePlan whether its statements may keep one plan for every execution: only for a statement written so
	 * that the one plan a planner can make for it, whatever it believes about the table, reaches each row through an
	 * index (the admission on PostgreSQL); the others are planned per execution
	 */
	private <T> T bookkeeping(boolean onePlan, java.util.function.Supplier<T> work) {
		return this.bookkeepingTransactions.execute((status) -> {
			if (this.relaxedCommits) {
				// planned per execution unless told otherwise: a plan cached while the table was small or not yet
				// analyzed must not outlive that (a generic plan of an admission written with a join and a NOT EXISTS,
				// made on an empty table, read every unfinished row once per admitted row); with one statement text
				// per list parameter (see #in), only the planning is repeated.
				// No sequential or bitmap scans: every statement here reaches its rows through an index, in the
				// index's order (a planner that believed few rows were new, before the table's first ANALYZE, took
				// a bitmap of every new row and sorted it instead of reading the oldest few in order)
				this.jdbc.queryForObject("SELECT set_config('synchronous_commit', 'off', true),"
						+ " set_config('plan_cache_mode', ?, true),"
						+ " set_config('enable_seqscan', 'off', true),"
						+ " set_config('enable_bitmapscan', 'off', true)", (rs, row) -> 0,
						onePlan ? "force_generic_plan" : "force_custom_plan");
			}
			return work.get();
		});
	}

	String table() {
		return this.table;
	}

	/** For tests: run {@code hook} in every claim between the choice of its candidates and their lease. */
	void afterCandidates(Runnable hook) {
		this.afterCandidates = hook;
	}

	/**
	 * A condition that a column is one of a list parameter's values, for the relay's bookkeeping statements (see
	 * {@link #bookkeeping}): on PostgreSQL {@code = ANY} of one array parameter, so that the statement's text, hence
	 * its parsed and prepared statement, is the same for every list length; elsewhere an expanded {@code IN} list.
	 * The parameter's value must come from {@link #values}.
	 */
	private String in(String column, String parameter) {
		return this.arrays ? column + " = ANY(:" + parameter + ")" : column + " IN (:" + parameter + ")";
	}

	/** The value of a list parameter of {@link #in}. */
	private Object values(Collection<?> values) {
		if (!this.arrays) {
			return values;
		}
		return values.stream().anyMatch(String.class::isInstance) ? values.toArray(String[]::new)
				: values.toArray(Long[]::new);
	}

	/**
	 * Return the token under which an owner's rows are leased from the moment they are written until its relay
	 * admits them: distinct from the owner token, so that the owner's own poll treats such a row like one another
	 * instance holds (it holds its key back and is not claimed) while it is on its way from the commit to the relay.
	 * Every fenced update accepts both tokens.
	 * @param owner the owner token
	 * @return the writer token
	 */
	static String writer(String owner) {
		return owner + "-w";
	}

	/**
	 * Lease the oldest due rows that may go now to an owner: for each key, the rows from the start of its line up to
	 * the first one that must hold the rest back (leased by another instance, waiting for its retry, or
	 * {@code FAILED} when failed rows block). Rows the owner holds already neither hold it back nor are taken again.
	 * Only the oldest {@code 5 x limit} unconfirmed due rows the owner does not hold are considered, so a claim costs
	 * the same however large the backlog is.
	 * @param owner the owner token
	 * @param now the current time
	 * @param leaseUntil the lease's end; unique per claim of this owner
	 * @param limit the most rows to claim
	 * @param failedBlocks whether a {@code FAILED} row holds its key
	 * @return the claimed rows, by id
	 */
	List<OutboxRow> claimDue(String owner, long now, long leaseUntil, int limit, boolean failedBlocks) {
		return claimDue(owner, now, leaseUntil, limit, failedBlocks, Long.MAX_VALUE);
	}

	/**
	 * Like {@link #claimDue(String, long, long, int, boolean)}, leaving rows created after
	 * {@code createdAtMost} to the instance that committed them (immediate mode publishes its own rows right after
	 * the commit): such a row is not claimed, and it holds its key's later rows back like a row leased elsewhere.
	 * Delayed rows (a not-before time after their creation) are not published by their writer: they are claimed once
	 * due, however young.
	 * @param createdAtMost the latest creation time of a row this claim may take
	 */
	List<OutboxRow> claimDue(String owner, long now, long leaseUntil, int limit, boolean failedBlocks,
			long createdAtMost) {
		MapSqlParameterSource params = claimParameters(owner, now, leaseUntil, limit)
			.addValue("window", limit * 5)
			.addValue("youngest", createdAtMost);
		// rows the owner holds neither hold their key back nor are taken again: left out of the window
		String blocking = blocking(failedBlocks);
		return claim("SELECT * FROM " + this.table + " WHERE status IN " + blocking + " AND not_before <= :now"
				+ " AND NOT (lease_owner IS NOT NULL AND lease_owner = :owner AND lease_until >= :now)"
				+ " ORDER BY id LIMIT :window", HOLDS_BACK + " OR (o.created_at > :youngest AND o.not_before <= o.created_at)",
				blocking, params);
	}

	/**
	 * Admit rows an owner just committed under its writer lease (see {@link #insert(OutboxRow, String, long)}): a
	 * row may be published now when no earlier unconfirmed due row of its key is held by another instance, waits for
	 * its retry, or is not held at all (with {@code FAILED} rows when they block). The others are given back (not
	 * leased), to be claimed in their key's line by a poll. Earlier rows of the key under the owner's own writer lease
	 * are named with each admitted row: the owner's relay knows whether it already has them (then the admitted row
	 * goes after them) or whether they are still on their way from their commit (then it must give the row back).
	 * @param owner the owner token
	 * @param now the current time
	 * @param failedBlocks whether a {@code FAILED} row holds its key
	 * @param messageIds the rows' message ids
	 * @return the admitted rows, in id order
	 */
	List<Admitted> admitCommitted(String owner, long now, boolean failedBlocks, Collection<String> messageIds) {
		MapSqlParameterSource params = claimParameters(owner, now, 0, messageIds.size())
			.addValue("ids", values(messageIds))
			.addValue("writer", writer(owner));
		if (this.arrayAggregates) {
			return admitCommittedOnePlan(params, failedBlocks, messageIds);
		}
		return bookkeeping(() -> {
			Map<Long, Admitted> admitted = new LinkedHashMap<>();
			this.named.query("SELECT c.id, c.message_id, w.id FROM " + this.table + " c LEFT JOIN " + this.table
					+ " w ON w.key_hash = c.key_hash AND w.id < c.id AND w.status = 'NEW'"
					+ " AND w.lease_owner = :writer"
					+ " AND w.lease_until >= :now WHERE " + in("c.message_id", "ids")
					// a row under a writer lease is NEW (every status change clears the lease); not naming the status
					// keeps the planner on the message id index
					+ " AND c.lease_owner = :writer AND NOT EXISTS (SELECT 1 FROM " + this.table
					+ " o WHERE o.key_hash = c.key_hash AND o.id < c.id AND o.status IN " + blocking(failedBlocks)
					+ " AND o.not_before <= :now AND NOT (o.lease_owner IS NOT NULL AND o.lease_owner IN (:owner, :writer)"
					+ " AND o.lease_until >= :now)) ORDER BY c.id, w.id", params,
					(ResultSet rs) -> {
						String messageId = rs.getString(2);
						Admitted row = admitted.computeIfAbsent(rs.getLong(1),
								(id) -> new Admitted(id, messageId, new ArrayList<>()));
						long before = rs.getLong(3);
						if (!rs.wasNull()) {
							row.writerRowsBefore().add(before);
						}
					});
			giveBackRefused(params, messageIds, admitted.values());
			return List.copyOf(admitted.values());
		});
	}

	/**
	 * {@link #admitCommitted} on PostgreSQL and H2; on PostgreSQL with one plan for every execution (planning it cost
	 * as much as running it). Both checks of a row's key are correlated scalar subqueries, which no planner turns into joins, and nothing
	 * is sorted: the only plan there is finds the rows by message id and probes each one's key line from it, whatever
	 * the table looked like when the plan was made.
	 */
	private List<Admitted> admitCommittedOnePlan(MapSqlParameterSource params, boolean failedBlocks,
			Collection<String> messageIds) {
		return bookkeeping(true, () -> {
			List<Admitted> admitted = new ArrayList<>();
			this.named.query(admissionOnePlanSql(failedBlocks), params, (ResultSet rs) -> {
						List<Long> before = new ArrayList<>();
						java.sql.Array array = rs.getArray(3);
						if (array != null) {
							for (Object id : (Object[]) array.getArray()) {
								before.add(((Number) id).longValue());
							}
							before.sort(null);
						}
						admitted.add(new Admitted(rs.getLong(1), rs.getString(2), before));
					});
			admitted.sort(java.util.Comparator.comparingLong(Admitted::id));
			giveBackRefused(params, messageIds, admitted);
			return List.copyOf(admitted);
		});
	}

	/**
	 * The admission's statement on PostgreSQL and H2 (parameters {@code :ids}, {@code :writer}, {@code :now},
	 * {@code :owner}); see {@link #admitCommittedOnePlan}.
	 */
	String admissionOnePlanSql(boolean failedBlocks) {
		return "SELECT c.id, c.message_id, (SELECT array_agg(w.id) FROM " + this.table + " w"
				+ " WHERE w.key_hash = c.key_hash AND w.id < c.id AND w.status = 'NEW' AND w.lease_owner = :writer"
				+ " AND w.lease_until >= :now) FROM " + this.table + " c WHERE " + in("c.message_id", "ids")
				+ " AND c.lease_owner = :writer AND (SELECT 1 FROM " + this.table + " o WHERE o.key_hash = c.key_hash"
				+ " AND o.id < c.id AND o.status IN " + blocking(failedBlocks) + " AND o.not_before <= :now"
				+ " AND NOT (o.lease_owner IS NOT NULL AND o.lease_owner IN (:owner, :writer)"
				+ " AND o.lease_until >= :now) LIMIT 1) IS NULL";
	}

	private void giveBackRefused(MapSqlParameterSource params, Collection<String> messageIds,
			Collection<Admitted> admitted) {
		Set<String> admittedIds = new HashSet<>();
		admitted.forEach((row) -> admittedIds.add(row.messageId()));
		if (admittedIds.size() < messageIds.size()) {
			List<String> refused = messageIds.stream().filter((id) -> !admittedIds.contains(id)).toList();
			params.addValue("refused", values(refused));
			this.named.update("UPDATE " + this.table + " SET lease_owner = NULL, lease_until = NULL"
					+ " WHERE " + in("message_id", "refused") + " AND lease_owner = :writer", params);
		}
	}

	/**
	 * A row its writer may publish now.
	 * @param id the row's id
	 * @param messageId its message id
	 * @param writerRowsBefore the ids of earlier rows of its key under the same writer lease
	 */
	record Admitted(long id, String messageId, List<Long> writerRowsBefore) {
	}

	/**
	 * Give back rows an owner wrote under its writer lease and will not publish itself.
	 * @return how many were still leased to the owner's writer token
	 */
	int releaseCommitted(String owner, Collection<String> messageIds) {
		return this.named.update("UPDATE " + this.table + " SET lease_owner = NULL, lease_until = NULL"
				+ " WHERE message_id IN (:ids) AND lease_owner = :writer",
				new MapSqlParameterSource("ids", messageIds).addValue("writer", writer(owner)));
	}

	private static MapSqlParameterSource claimParameters(String owner, long now, long leaseUntil, int limit) {
		return new MapSqlParameterSource().addValue("owner", owner)
			.addValue("now", now)
			.addValue("until", leaseUntil)
			.addValue("limit", limit);
	}

	/**
	 * The statuses of a row that holds its key while unconfirmed, as a literal list: on PostgreSQL the unfinished
	 * rows' partial indexes serve a query only when its condition visibly implies theirs, which a parameter does not.
	 */
	private static String blocking(boolean failedBlocks) {
		return failedBlocks ? "('NEW', 'FAILED')" : "('NEW')";
	}

	/**
	 * Find the claimable rows among those {@code source} selects (the running count of rows that hold their key
	 * back must still be zero at the row), lease them fenced by the lease condition, and read back what this owner
	 * got. A key's line is its rows with the same key hash (64-bit, of topic and key: sorting numbers is much cheaper
	 * than sorting the keys' text, and two keys sharing a hash only wait for each other, never overtake); rows without
	 * a key are each a line of their own. A row that will not be claimed by this statement must hold its key back
	 * ({@code holdsBack}), or a later row of its key could overtake it.
	 */
	private List<OutboxRow> claim(String source, String holdsBack, String blocking, MapSqlParameterSource params) {
		return bookkeeping(() -> claimInTransaction(source, holdsBack, blocking, params));
	}

	private List<OutboxRow> claimInTransaction(String source, String holdsBack, String blocking,
			MapSqlParameterSource params) {
		List<Long> candidates = this.named.queryForList("SELECT c.id FROM (SELECT o.id, o.message_id, o.status,"
				+ " o.next_attempt_at, o.lease_owner, o.lease_until, SUM(CASE WHEN " + holdsBack
				+ " THEN 1 ELSE 0 END) OVER (PARTITION BY o.key_hash,"
				+ " CASE WHEN o.key_hash IS NULL THEN o.id END ORDER BY o.id ROWS UNBOUNDED PRECEDING) AS holds"
				+ " FROM (" + source + ") o) c WHERE c.holds = 0 AND c.status = 'NEW' AND c.next_attempt_at <= :now"
				+ " AND (c.lease_owner IS NULL OR c.lease_until < :now) ORDER BY c.id LIMIT :limit", params,
				Long.class);
		if (candidates.isEmpty()) {
			return List.of();
		}
		this.afterCandidates.run();
		params.addValue("candidates", values(candidates));
		this.named.update("UPDATE " + this.table + " SET lease_owner = :owner, lease_until = :until"
				+ " WHERE " + in("id", "candidates") + " AND " + UNFINISHED
				+ " AND (lease_owner IS NULL OR lease_until < :now)",
				params);
		// two instances can compute their candidates from the same moment and each lease part of one key's line;
		// a leased row behind an earlier unconfirmed row of its key that this owner does not hold goes back. A scalar
		// subquery, not a join: the search goes from each leased row to its key's earlier rows, whatever the planner
		// believes about how many rows are new (a join let it start from every new row: 1 s a claim)
		List<Long> behind = this.named.queryForList("SELECT c.id FROM " + this.table + " c WHERE c."
				+ in("id", "candidates") + " AND c.lease_owner = :owner AND c.lease_until = :until AND (SELECT o.id"
				+ " FROM " + this.table + " o WHERE o.key_hash = c.key_hash AND o.status IN " + blocking
				+ " AND o.id < c.id AND o.not_before <= :now AND NOT (o.lease_owner IS NOT NULL"
				+ " AND o.lease_owner = :owner AND o.lease_until >= :now) ORDER BY o.id LIMIT 1) IS NOT NULL",
				params, Long.class);
		if (!behind.isEmpty()) {
			params.addValue("behind", values(behind));
			this.named.update("UPDATE " + this.table + " SET lease_owner = NULL, lease_until = NULL"
					+ " WHERE " + in("id", "behind") + " AND lease_owner = :owner AND lease_until = :until", params);
		}
		return this.named.query("SELECT " + COLUMNS + " FROM " + this.table + " WHERE " + in("id", "candidates")
				+ " AND lease_owner = :owner AND lease_until = :until ORDER BY id", params, ROW);
	}

	/**
	 * Mark rows confirmed by Kafka.
	 * @return how many were still leased to the owner
	 */
	int markSent(String owner, Collection<Long> ids, long now) {
		return bookkeeping(() -> this.named.update("UPDATE " + this.table + " SET status = 'SENT', sent_at = :now,"
				+ " lease_owner = NULL, lease_until = NULL WHERE " + in("id", "ids") + " AND lease_owner IN (:owner, :writer)"
				+ " AND " + UNFINISHED, new MapSqlParameterSource("ids", values(ids)).addValue("owner", owner)
					.addValue("writer", writer(owner))
					.addValue("now", now)));
	}

	/**
	 * Record a failed attempt and give the row back, due again at {@code nextAttemptAt}.
	 * @return 1 when the row was still leased to the owner
	 */
	int markRetry(String owner, long id, int attempts, String error, long nextAttemptAt) {
		return this.jdbc.update("UPDATE " + this.table + " SET attempts = ?, last_error = ?, next_attempt_at = ?,"
				+ " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner IN (?, ?) AND " + UNFINISHED,
				attempts, truncate(error), nextAttemptAt, id, owner, writer(owner));
	}

	/**
	 * Give up on a row.
	 * @return 1 when the row was still leased to the owner
	 */
	int markFailed(String owner, long id, int attempts, String error) {
		return this.jdbc.update("UPDATE " + this.table + " SET status = 'FAILED', attempts = ?, last_error = ?,"
				+ " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner IN (?, ?) AND " + UNFINISHED,
				attempts, truncate(error), id, owner, writer(owner));
	}

	/**
	 * Give leased rows back without an attempt.
	 * @return how many were still leased to the owner
	 */
	int release(String owner, Collection<Long> ids) {
		return this.named.update("UPDATE " + this.table + " SET lease_owner = NULL, lease_until = NULL"
				+ " WHERE id IN (:ids) AND lease_owner IN (:owner, :writer)",
				new MapSqlParameterSource("ids", ids).addValue("owner", owner).addValue("writer", writer(owner)));
	}

	/**
	 * Extend every lease the owner still holds.
	 * @return how many leases were extended
	 */
	int renew(String owner, long now, long leaseUntil) {
		return this.jdbc.update("UPDATE " + this.table + " SET lease_until = ? WHERE lease_owner IN (?, ?)"
				+ " AND status = 'NEW' AND lease_until >= ?", leaseUntil, owner, writer(owner), now);
	}

	/**
	 * Delete, among the next {@code limit} confirmed rows in id order after {@code afterId}, those sent before a
	 * time. The cost is bounded by {@code limit} however many confirmed rows are kept; walking on from the last id
	 * seen, successive sweeps reach every confirmed row whatever its id (confirmed rows are not in id order: a
	 * delayed row is confirmed long after the rows written after it).
	 * @return how many were deleted, where the window ended, and the earliest time one of the rows looked at and kept
	 * expires
	 */
	Sweep deleteSent(long sentBefore, long afterId, int limit) {
		return bookkeeping(() -> deleteSentInTransaction(sentBefore, afterId, limit));
	}

	private Sweep deleteSentInTransaction(long sentBefore, long afterId, int limit) {
		List<Long> expired = new java.util.ArrayList<>();
		long[] nextExpiry = { Long.MAX_VALUE };
		long[] last = { afterId };
		int[] seen = { 0 };
		this.jdbc.query("SELECT id, sent_at FROM " + this.table + " WHERE status = 'SENT' AND id > ? ORDER BY id LIMIT ?",
				(ResultSet rs) -> {
					seen[0]++;
					last[0] = rs.getLong(1);
					long sentAt = rs.getLong(2);
					if (sentAt < sentBefore) {
						expired.add(rs.getLong(1));
					}
					else {
						nextExpiry[0] = Math.min(nextExpiry[0], sentAt);
					}
				}, afterId, limit);
		int deleted = expired.isEmpty() ? 0 : this.named.update("DELETE FROM " + this.table
				+ " WHERE id IN (:ids) AND status = 'SENT'", new MapSqlParameterSource("ids", expired));
		return new Sweep(deleted, (seen[0] < limit) ? null : last[0],
				(nextExpiry[0] == Long.MAX_VALUE) ? null : nextExpiry[0]);
	}

	/**
	 * What a retention sweep did.
	 * @param deleted how many rows it deleted
	 * @param lastId the last id its window reached, to go on from; {@code null} when it reached the table's last
	 * confirmed row
	 * @param firstKeptSentAt the earliest confirmation time of a row it looked at and kept, if any
	 */
	record Sweep(int deleted, @Nullable Long lastId, @Nullable Long firstKeptSentAt) {
	}

	/**
	 * Look up the state of rows.
	 * @return the status per message id, for the rows that exist
	 */
	Map<String, OutboxStatus> statuses(Collection<String> messageIds) {
		Map<String, OutboxStatus> statuses = new HashMap<>();
		this.named.query("SELECT message_id, status FROM " + this.table + " WHERE message_id IN (:ids)",
				new MapSqlParameterSource("ids", messageIds),
				(ResultSet rs) -> {
					statuses.put(rs.getString(1), OutboxStatus.valueOf(rs.getString(2)));
				});
		return statuses;
	}

	/**
	 * Return the earliest not-before time of a row that is not yet due. It reads every unconfirmed row (through the
	 * unfinished rows' index, as bookkeeping: never the whole table with its confirmed rows).
	 */
	@Nullable Long nextNotBefore(long now) {
		return bookkeeping(() -> this.jdbc.queryForObject("SELECT MIN(not_before) FROM " + this.table
				+ " WHERE status IN ('NEW') AND not_before > ?", Long.class, now));
	}

	private static String truncate(String error) {
		return (error.length() <= 2000) ? error : error.substring(0, 1997) + "...";
	}

	/**
	 * Describe the outbox table for its schema initializer.
	 * @param name the table name
	 * @return the table
	 */
	public static LibraryTable libraryTable(String name) {
		return new LibraryTable(name, "outbox table", SCHEMA_LOCATION, "id, message_id, topic, message_key, key_hash, "
				+ "payload, headers, created_at, not_before, next_attempt_at, attempts, last_error, status, "
				+ "lease_owner, lease_until, sent_at", "reliable.kafka.outbox.initialize-schema",
				"set reliable.kafka.outbox.enabled=false if this application sends nothing through the outbox (its "
						+ "sends then go straight to Kafka)");
	}

	/**
	 * Refuse a table name that is not a plain, optionally schema-qualified SQL name (it is written into statements).
	 */
	static void checkTable(String table) {
		Assert.isTrue(TABLE_NAME.matcher(table).matches(), () -> "Invalid outbox table name '" + table + "'");
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

	private static final RowMapper<OutboxRow> ROW = (rs, rowNum) -> new OutboxRow(rs.getLong("id"),
			rs.getString("message_id"), rs.getString("topic"), rs.getString("message_key"), rs.getBytes("payload"),
			rs.getBytes("headers"), rs.getLong("created_at"), rs.getLong("not_before"), rs.getInt("attempts"));

}
