package io.github.reliablekafka.outbox;

import java.sql.ResultSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import io.github.reliablekafka.internal.LibraryTable;
import org.jspecify.annotations.Nullable;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.Assert;

/**
 * The relay's statements on the outbox table, through JDBC: claims and admissions ({@link OutboxClaims}), marks,
 * releases, lease renewals and retention sweeps; the relay's bookkeeping runs each in a transaction of its own. Every
 * statement that changes a leased row is fenced by the lease owner, so an instance whose lease ran out can no longer
 * touch a row another instance has claimed. What differs per database is in its {@link OutboxDialect}. Rows are
 * written by {@link OutboxWriter}; operators read and re-queue them through {@link JdbcOutboxOperations}.
 */
final class OutboxStore {

	private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

	/** The outbox's schema scripts, one per database. */
	static final String SCHEMA_LOCATION = "classpath:io/github/reliablekafka/outbox/schema-@@platform@@.sql";

	private final JdbcTemplate jdbc;

	private final NamedParameterJdbcTemplate named;

	private final String table;

	private final OutboxDialect dialect;

	private final OutboxClaims claims;

	/**
	 * The relay's own bookkeeping (a claim, an admission, a batch of marks, a retention sweep) runs in a transaction
	 * of its own, so that a lease renewal cannot slip between a claim's lease and its read-back.
	 */
	private final TransactionTemplate bookkeepingTransactions;

	private final SentPositionColumns sentPositions;

	/**
	 * Create a store.
	 * @param dataSource the application's data source
	 * @param table the table name, optionally schema-qualified
	 */
	OutboxStore(DataSource dataSource, String table) {
		checkTable(table);
		this.sentPositions = new SentPositionColumns(dataSource, table);
		this.jdbc = new JdbcTemplate(dataSource);
		this.named = new NamedParameterJdbcTemplate(this.jdbc);
		this.table = table;
		this.dialect = OutboxDialect.of(dataSource);
		this.claims = new OutboxClaims(this.named, table, this.dialect);
		this.bookkeepingTransactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		this.bookkeepingTransactions.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		this.dialect.configure(this.bookkeepingTransactions);
	}

	/** Run relay bookkeeping in a transaction of its own, as the dialect sets it up. */
	private <T> T bookkeeping(java.util.function.Supplier<T> work) {
		return bookkeeping(false, work);
	}

	/**
	 * Run relay bookkeeping in a transaction of its own, as the dialect sets it up.
	 * @param onePlan whether its statements may keep one plan for every execution (see
	 * {@link OutboxDialect#admissionOnePlan()})
	 */
	private <T> T bookkeeping(boolean onePlan, java.util.function.Supplier<T> work) {
		return this.bookkeepingTransactions.execute((status) -> {
			this.dialect.beginBookkeeping(this.jdbc, onePlan);
			return work.get();
		});
	}

	String table() {
		return this.table;
	}

	/** Return the dialect of the table's database. */
	OutboxDialect dialect() {
		return this.dialect;
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
	 * Return the claims and admissions of this table.
	 * @return the claim statements
	 */
	OutboxClaims claims() {
		return this.claims;
	}

	/**
	 * Lease the oldest due rows that may go now to an owner (see {@link OutboxClaims#claimDue}).
	 * @return the claimed rows, by id
	 */
	List<OutboxRow> claimDue(String owner, long now, long leaseUntil, int limit, boolean failedBlocks) {
		return claimDue(owner, now, leaseUntil, limit, failedBlocks, Long.MAX_VALUE);
	}

	/**
	 * Lease the oldest due rows that may go now to an owner, leaving younger rows to their writer (see
	 * {@link OutboxClaims#claimDue}).
	 * @return the claimed rows, by id
	 */
	List<OutboxRow> claimDue(String owner, long now, long leaseUntil, int limit, boolean failedBlocks,
			long createdAtMost) {
		OutboxClaims.Claim claim = this.claims.claimDue(owner, now, leaseUntil, limit, failedBlocks, createdAtMost);
		return bookkeeping(() -> this.claims.lease(claim, this.claims.candidates(claim)));
	}

	/**
	 * Admit rows an owner just committed under its writer lease (see {@link OutboxClaims#admitCommitted}).
	 * @return the admitted rows, in id order
	 */
	List<Admitted> admitCommitted(String owner, long now, boolean failedBlocks, Collection<String> messageIds) {
		return bookkeeping(this.dialect.admissionOnePlan(),
				() -> this.claims.admitCommitted(owner, now, failedBlocks, messageIds));
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

	/**
	 * Mark rows confirmed by Kafka, with where each was written when the table has the columns for it.
	 * @return how many were still leased to the owner
	 */
	int markSent(String owner, List<Sent> sent, long now) {
		if (!this.sentPositions.present()) {
			List<Long> ids = sent.stream().map(Sent::id).toList();
			return bookkeeping(() -> this.named.update("UPDATE " + this.table + " SET status = 'SENT', sent_at = :now,"
					+ " lease_owner = NULL, lease_until = NULL WHERE " + this.dialect.in("id", "ids")
					+ " AND lease_owner IN (:owner, :writer) AND " + OutboxClaims.UNFINISHED,
					new MapSqlParameterSource("ids", this.dialect.values(ids)).addValue("owner", owner)
						.addValue("writer", writer(owner))
						.addValue("now", now)));
		}
		return bookkeeping(() -> this.dialect.markSent(this.jdbc, this.named, this.table, sent, owner, writer(owner),
				now));
	}

	/**
	 * A row confirmed by Kafka.
	 * @param id the row id
	 * @param partition the partition it was written to
	 * @param offset its offset there
	 */
	record Sent(long id, int partition, long offset) {
	}

	/**
	 * Record a failed attempt and give the row back, due again at {@code nextAttemptAt}.
	 * @return 1 when the row was still leased to the owner
	 */
	int markRetry(String owner, long id, int attempts, String error, long nextAttemptAt) {
		return this.jdbc.update("UPDATE " + this.table + " SET attempts = ?, last_error = ?, next_attempt_at = ?,"
				+ " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner IN (?, ?) AND " + OutboxClaims.UNFINISHED,
				attempts, truncate(error), nextAttemptAt, id, owner, writer(owner));
	}

	/**
	 * Give up on a row.
	 * @return 1 when the row was still leased to the owner
	 */
	int markFailed(String owner, long id, int attempts, String error) {
		return this.jdbc.update("UPDATE " + this.table + " SET status = 'FAILED', attempts = ?, last_error = ?,"
				+ " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner IN (?, ?) AND " + OutboxClaims.UNFINISHED,
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
	static LibraryTable libraryTable(String name) {
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

}
