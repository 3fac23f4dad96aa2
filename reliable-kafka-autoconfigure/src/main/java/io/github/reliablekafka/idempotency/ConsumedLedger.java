package io.github.reliablekafka.idempotency;

import java.sql.DatabaseMetaData;
import java.util.List;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import io.github.reliablekafka.internal.LibraryTable;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.jdbc.support.MetaDataAccessException;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.Assert;

/**
 * The ledger table ({@code rk_consumed}): one row per consumer group and idempotency key, whose state only moves
 * from {@code PROCESSING} to {@code DONE}. Statements join the caller's transaction when there is one.
 */
public final class ConsumedLedger {

	/** The ledger's schema scripts, one per database. */
	public static final String SCHEMA_LOCATION = "classpath:io/github/reliablekafka/idempotency/schema-@@platform@@.sql";

	/** The dead-letter table's schema scripts, one per database. */
	public static final String DEAD_LETTER_SCHEMA_LOCATION = "classpath:io/github/reliablekafka/idempotency/"
			+ "schema-dead-letter-@@platform@@.sql";

	/** The dead-letter table's name after the ledger table's. */
	private static final String DEAD_LETTER_SUFFIX = "_dead_letter";

	private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

	private final JdbcTemplate jdbc;

	private final String table;

	/** Whether the database is PostgreSQL; {@code null} until known. */
	private volatile @Nullable Boolean postgres;

	/**
	 * Create a ledger.
	 * @param dataSource the application's data source
	 * @param table the table name, optionally schema-qualified
	 */
	public ConsumedLedger(DataSource dataSource, String table) {
		Assert.isTrue(TABLE_NAME.matcher(table).matches(), () -> "Invalid ledger table name '" + table + "'");
		this.jdbc = new JdbcTemplate(dataSource);
		this.table = table;
	}

	/**
	 * Describe the ledger table for its schema initializer.
	 * @param name the table name
	 * @return the table
	 */
	public static LibraryTable libraryTable(String name) {
		return new LibraryTable(name, "idempotency ledger table", SCHEMA_LOCATION,
				"consumer_group, idem_key, status, claims, created_at, updated_at",
				"reliable.kafka.consumer.idempotency.initialize-schema",
				"set reliable.kafka.consumer.idempotency.store=redis (or none) to run reliable listeners without the "
						+ "database ledger");
	}

	/**
	 * Describe the table the ledger keeps dead letters in ({@code <ledger table>_dead_letter}) for its schema
	 * initializer.
	 * @param ledgerTable the ledger table's name
	 * @return the table
	 */
	public static LibraryTable deadLetterTable(String ledgerTable) {
		return new LibraryTable(ledgerTable + DEAD_LETTER_SUFFIX, "dead-letter table", DEAD_LETTER_SCHEMA_LOCATION,
				"message_id, consumer_group, dead_letter, source, reason, created_at",
				"reliable.kafka.consumer.idempotency.initialize-schema",
				"set reliable.kafka.consumer.idempotency.store=redis (or none) to run reliable listeners without the "
						+ "database ledger");
	}

	/**
	 * Record, in the caller's transaction, that a key is done: the decisive step. A concurrent transaction doing
	 * the same for the same key waits for this one and then finds it done.
	 * @param claimed whether a {@code PROCESSING} row was written before (by {@link #claim})
	 * @return {@code false} when the key was already done (a duplicate)
	 */
	boolean markDone(String group, String key, boolean claimed) {
		long now = System.currentTimeMillis();
		if (claimed && this.jdbc.update("UPDATE " + this.table + " SET status = 'DONE', updated_at = ? WHERE "
				+ "consumer_group = ? AND idem_key = ? AND status = 'PROCESSING'", now, group, key) == 1) {
			return true;
		}
		try {
			this.jdbc.update("INSERT INTO " + this.table + " (consumer_group, idem_key, status, claims, created_at, "
					+ "updated_at) VALUES (?, ?, 'DONE', 0, ?, ?)", group, key, now, now);
			return true;
		}
		catch (DuplicateKeyException ex) {
			return false;
		}
	}

	/**
	 * Record, in the caller's transaction, that a key is done, for a record whose claim was not counted: one
	 * statement when the key is new (the usual case). A {@code PROCESSING} row left by an earlier claim is moved to
	 * {@code DONE} as well. A concurrent transaction doing the same for the same key waits for this one and then finds
	 * it done.
	 * @return {@code false} when the key was already done (a duplicate)
	 */
	boolean markDoneUnclaimed(String group, String key) {
		long now = System.currentTimeMillis();
		if (postgres()) { // a failed INSERT would abort the transaction on PostgreSQL: one upsert instead
			return this.jdbc.update("INSERT INTO " + this.table + " AS ledger (consumer_group, idem_key, status, "
					+ "claims, created_at, updated_at) VALUES (?, ?, 'DONE', 0, ?, ?) ON CONFLICT (consumer_group, "
					+ "idem_key) DO UPDATE SET status = 'DONE', updated_at = EXCLUDED.updated_at WHERE ledger.status = "
					+ "'PROCESSING'", group, key, now, now) == 1;
		}
		try { // MySQL, MariaDB and H2 undo only the failed statement: the transaction goes on
			this.jdbc.update("INSERT INTO " + this.table + " (consumer_group, idem_key, status, claims, created_at, "
					+ "updated_at) VALUES (?, ?, 'DONE', 0, ?, ?)", group, key, now, now);
			return true;
		}
		catch (DuplicateKeyException ex) {
			return this.jdbc.update("UPDATE " + this.table + " SET status = 'DONE', updated_at = ? WHERE "
					+ "consumer_group = ? AND idem_key = ? AND status = 'PROCESSING'", now, group, key) == 1;
		}
	}

	/**
	 * Count a claim of a key, committed at once, so that the count survives a crash of the work.
	 * @return the claims so far including this one, or {@code -1} when the key is already done
	 */
	int claim(String group, String key) {
		if (postgres() && !TransactionSynchronizationManager.isActualTransactionActive()) {
			return claimOnPostgres(group, key);
		}
		for (int attempt = 0; attempt < 3; attempt++) {
			long now = System.currentTimeMillis();
			if (this.jdbc.update("UPDATE " + this.table + " SET claims = claims + 1, updated_at = ? WHERE "
					+ "consumer_group = ? AND idem_key = ? AND status = 'PROCESSING'", now, group, key) == 1) {
				List<Integer> claims = this.jdbc.queryForList("SELECT claims FROM " + this.table
						+ " WHERE consumer_group = ? AND idem_key = ?", Integer.class, group, key);
				return claims.isEmpty() ? 1 : claims.get(0);
			}
			try {
				this.jdbc.update("INSERT INTO " + this.table + " (consumer_group, idem_key, status, claims, created_at, "
						+ "updated_at) VALUES (?, ?, 'PROCESSING', 1, ?, ?)", group, key, now, now);
				return 1;
			}
			catch (DuplicateKeyException ex) {
				List<String> status = this.jdbc.queryForList("SELECT status FROM " + this.table
						+ " WHERE consumer_group = ? AND idem_key = ?", String.class, group, key);
				if (!status.isEmpty() && "DONE".equals(status.get(0))) {
					return -1;
				}
			}
		}
		throw new GuardUnavailableException("Could not claim idempotency key " + key + " of group " + group);
	}

	/**
	 * One statement, in a transaction of its own, committed without waiting for the WAL flush: a claim only counts
	 * crash loops, so a claim lost with the database's own crash counts one crash fewer; a crash of the consumer finds
	 * it committed. The work's own commit, which waits for the flush, flushes the claim before it.
	 */
	private int claimOnPostgres(String group, String key) {
		long now = System.currentTimeMillis();
		List<Integer> claims = this.jdbc.queryForList("INSERT INTO " + this.table + " AS ledger (consumer_group, "
				+ "idem_key, status, claims, created_at, updated_at) SELECT ?, ?, 'PROCESSING', 1, ?, ? FROM (SELECT "
				+ "set_config('synchronous_commit', 'off', true)) AS settings ON CONFLICT (consumer_group, idem_key) DO "
				+ "UPDATE SET claims = ledger.claims + 1, updated_at = EXCLUDED.updated_at WHERE ledger.status = "
				+ "'PROCESSING' RETURNING ledger.claims", Integer.class, group, key, now, now);
		return claims.isEmpty() ? -1 : claims.get(0);
	}

	private boolean postgres() {
		Boolean postgres = this.postgres;
		if (postgres == null) {
			try {
				String product = JdbcUtils.extractDatabaseMetaData(this.jdbc.getDataSource(),
						DatabaseMetaData::getDatabaseProductName);
				postgres = "PostgreSQL".equals(product);
			}
			catch (MetaDataAccessException ex) {
				return false; // asked again next time
			}
			this.postgres = postgres;
		}
		return postgres;
	}

	/**
	 * Take back a claim whose work failed with an exception: a failure that was caught is not a crash.
	 */
	void unclaim(String group, String key) {
		this.jdbc.update("UPDATE " + this.table + " SET claims = claims - 1 WHERE consumer_group = ? AND idem_key = ?"
				+ " AND status = 'PROCESSING' AND claims > 0", group, key);
	}

	/**
	 * Delete rows last touched before a time, at most {@code limit} of them.
	 * @return how many were deleted
	 */
	int deleteBefore(long updatedBefore, int limit) {
		List<Object[]> old = this.jdbc.query("SELECT consumer_group, idem_key FROM " + this.table
				+ " WHERE updated_at < ? ORDER BY updated_at LIMIT ?",
				(rs, row) -> new Object[] { rs.getString(1), rs.getString(2) }, updatedBefore, limit);
		if (old.isEmpty()) {
			return 0;
		}
		this.jdbc.batchUpdate("DELETE FROM " + this.table + " WHERE consumer_group = ? AND idem_key = ?"
				+ " AND updated_at < ?", old.stream().map((row) -> new Object[] { row[0], row[1], updatedBefore }).toList(),
				old.size(), (ps, row) -> {
					ps.setString(1, (String) row[0]);
					ps.setString(2, (String) row[1]);
					ps.setLong(3, (Long) row[2]);
				});
		return old.size();
	}

	/**
	 * Keep a dead letter in the dead-letter table ({@code <table>_dead_letter}); a second record of the same dead
	 * letter changes nothing.
	 */
	void recordDeadLetter(DeadLetterRecord record) {
		try {
			this.jdbc.update("INSERT INTO " + deadLetterTable() + " (message_id, consumer_group, dead_letter, source, "
					+ "reason, created_at) VALUES (?, ?, ?, ?, ?, ?)", record.messageId(), record.group(),
					record.deadLetter(), record.source(), record.reason(), record.at().toEpochMilli());
		}
		catch (DuplicateKeyException alreadyKept) {
			// the same dead letter, recorded again
		}
	}

	/**
	 * Return the dead letters kept for a message id, oldest first, at most 100.
	 */
	List<DeadLetterRecord> deadLetters(String messageId) {
		return this.jdbc.query("SELECT message_id, consumer_group, source, dead_letter, reason, created_at FROM "
				+ deadLetterTable() + " WHERE message_id = ? ORDER BY created_at LIMIT 100",
				(rs, row) -> new DeadLetterRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
						rs.getString(5), java.time.Instant.ofEpochMilli(rs.getLong(6))),
				messageId);
	}

	/**
	 * Delete the dead letters kept since before a time.
	 * @return how many were deleted
	 */
	int deleteDeadLettersBefore(long createdBefore) {
		return this.jdbc.update("DELETE FROM " + deadLetterTable() + " WHERE created_at < ?", createdBefore);
	}

	private String deadLetterTable() {
		return this.table + DEAD_LETTER_SUFFIX;
	}

	/**
	 * Return whether a key is done.
	 */
	boolean isDone(String group, String key) {
		return !this.jdbc.queryForList("SELECT status FROM " + this.table + " WHERE consumer_group = ? AND idem_key = ?"
				+ " AND status = 'DONE'", String.class, group, key).isEmpty();
	}

	/**
	 * Return what the ledger holds for a key.
	 */
	IdempotencyGuard.KeyState state(String group, String key) {
		List<String> status = this.jdbc.queryForList("SELECT status FROM " + this.table
				+ " WHERE consumer_group = ? AND idem_key = ?", String.class, group, key);
		if (status.isEmpty()) {
			return IdempotencyGuard.KeyState.ABSENT;
		}
		return "DONE".equals(status.get(0)) ? IdempotencyGuard.KeyState.DONE : IdempotencyGuard.KeyState.PROCESSING;
	}

	/**
	 * Check that the database answers.
	 * @throws org.springframework.dao.DataAccessException when it does not
	 */
	void ping() {
		this.jdbc.queryForObject("SELECT 1", Integer.class);
	}

}
