package io.github.reliablekafka.outbox;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.jdbc.UncategorizedSQLException;

/**
 * Whether an outbox table has the columns for where Kafka wrote a row ({@code sent_partition}, {@code sent_offset}).
 * A table made by an earlier script has not: rows are then marked and read without them, and the first look finds
 * that out and logs the fix once. Looked at once, on a connection of its own (a failed statement would end a caller's
 * transaction on PostgreSQL).
 */
final class SentPositionColumns {

	private static final Logger logger = LoggerFactory.getLogger(SentPositionColumns.class);

	private final DataSource dataSource;

	private final String table;

	private volatile @Nullable Boolean present;

	SentPositionColumns(DataSource dataSource, String table) {
		this.dataSource = dataSource;
		this.table = table;
	}

	/**
	 * Return whether the table has the columns.
	 * @throws org.springframework.dao.DataAccessException when the database cannot be asked
	 */
	boolean present() {
		Boolean known = this.present;
		if (known == null) {
			known = look();
			if (!known) {
				logger.warn("Outbox table {} has no sent_partition and sent_offset columns (it was made by an earlier "
						+ "script): rows are marked SENT without where Kafka wrote them, and look-ups by rk-id do not "
						+ "show it. Add them: ALTER TABLE {} ADD COLUMN sent_partition INTEGER; ALTER TABLE {} ADD "
						+ "COLUMN sent_offset BIGINT", this.table, this.table, this.table);
			}
			this.present = known;
		}
		return known;
	}

	private boolean look() {
		try (Connection connection = this.dataSource.getConnection();
				Statement statement = connection.createStatement()) {
			statement.executeQuery("SELECT sent_partition, sent_offset FROM " + this.table + " WHERE 1 = 0").close();
			return true;
		}
		catch (SQLException ex) {
			if (ex.getSQLState() != null && ex.getSQLState().startsWith("42")) {
				return false; // no such column (syntax error or access rule violation)
			}
			throw new UncategorizedSQLException("look for sent_partition and sent_offset", null, ex);
		}
	}

}
