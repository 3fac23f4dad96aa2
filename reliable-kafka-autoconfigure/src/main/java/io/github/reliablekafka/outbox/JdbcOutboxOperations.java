package io.github.reliablekafka.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * {@link OutboxOperations} on the outbox table, through JDBC: what an operator, the health indicator and the meters
 * read, and the re-queueing of failed rows.
 */
final class JdbcOutboxOperations implements OutboxOperations {

	private static final String MESSAGE_COLUMNS = "id, message_id, topic, message_key, status, attempts, last_error, "
			+ "created_at, not_before, sent_at";

	private final JdbcTemplate jdbc;

	private final NamedParameterJdbcTemplate named;

	private final String table;

	private final SentPositionColumns sentPositions;

	/**
	 * Create the operations.
	 * @param dataSource the application's data source
	 * @param table the table name, optionally schema-qualified
	 */
	JdbcOutboxOperations(DataSource dataSource, String table) {
		OutboxStore.checkTable(table);
		this.sentPositions = new SentPositionColumns(dataSource, table);
		this.jdbc = new JdbcTemplate(dataSource);
		this.named = new NamedParameterJdbcTemplate(this.jdbc);
		this.table = table;
	}

	/** The columns of a message: with where it was written when the table has the columns. */
	private String columns() {
		return this.sentPositions.present() ? MESSAGE_COLUMNS + ", sent_partition, sent_offset" : MESSAGE_COLUMNS;
	}

	private RowMapper<OutboxMessage> mapper() {
		boolean positions = this.sentPositions.present();
		return (rs, rowNum) -> new OutboxMessage(rs.getLong("id"), rs.getString("message_id"), rs.getString("topic"),
				rs.getString("message_key"), OutboxStatus.valueOf(rs.getString("status")), rs.getInt("attempts"),
				rs.getString("last_error"), Instant.ofEpochMilli(rs.getLong("created_at")),
				Instant.ofEpochMilli(rs.getLong("not_before")), nullable(rs.getLong("sent_at"), rs.wasNull(),
						Instant::ofEpochMilli),
				positions ? nullable(rs.getInt("sent_partition"), rs.wasNull(), Integer::valueOf) : null,
				positions ? nullable(rs.getLong("sent_offset"), rs.wasNull(), Long::valueOf) : null);
	}

	private static <V, T> @Nullable T nullable(V value, boolean wasNull, java.util.function.Function<V, T> convert) {
		return wasNull ? null : convert.apply(value);
	}

	@Override
	public List<OutboxMessage> failed(int limit) {
		return this.jdbc.query("SELECT " + columns() + " FROM " + this.table
				+ " WHERE status = 'FAILED' ORDER BY id LIMIT ?", mapper(), limit);
	}

	@Override
	public int requeue(Collection<Long> ids) {
		if (ids.isEmpty()) {
			return 0;
		}
		return this.named.update("UPDATE " + this.table + " SET status = 'NEW', attempts = 0, next_attempt_at = :now,"
				+ " lease_owner = NULL, lease_until = NULL WHERE id IN (:ids) AND status = 'FAILED'",
				new MapSqlParameterSource("ids", ids).addValue("now", System.currentTimeMillis()));
	}

	@Override
	public int requeueAllFailed() {
		return this.jdbc.update("UPDATE " + this.table + " SET status = 'NEW', attempts = 0, next_attempt_at = ?,"
				+ " lease_owner = NULL, lease_until = NULL WHERE status = 'FAILED'", System.currentTimeMillis());
	}

	@Override
	public Optional<OutboxMessage> find(String messageId) {
		return this.jdbc.query("SELECT " + columns() + " FROM " + this.table + " WHERE message_id = ?", mapper(),
				messageId).stream().findFirst();
	}

	@Override
	public long pendingCount() {
		Long count = this.jdbc.queryForObject("SELECT COUNT(*) FROM " + this.table + " WHERE status = 'NEW'", Long.class);
		return (count != null) ? count : 0;
	}

	@Override
	public long dueCount() {
		Long count = this.jdbc.queryForObject("SELECT COUNT(*) FROM " + this.table + " WHERE status = 'NEW' AND "
				+ "not_before <= ?", Long.class, System.currentTimeMillis());
		return (count != null) ? count : 0;
	}

	@Override
	public Duration oldestPendingAge() {
		long now = System.currentTimeMillis();
		// a delayed row waits from its due time on; the first 1,000 due rows in id order hold the oldest
		Long oldest = this.jdbc.queryForObject("SELECT MIN(waits_since) FROM (SELECT CASE WHEN not_before > created_at "
				+ "THEN not_before ELSE created_at END AS waits_since FROM " + this.table
				+ " WHERE status = 'NEW' AND not_before <= ? ORDER BY id LIMIT 1000) due", Long.class, now);
		return (oldest == null) ? Duration.ZERO : Duration.ofMillis(Math.max(0, now - oldest));
	}

}
