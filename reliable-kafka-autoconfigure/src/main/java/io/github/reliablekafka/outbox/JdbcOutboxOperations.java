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

	private static final RowMapper<OutboxMessage> MESSAGE = (rs, rowNum) -> new OutboxMessage(rs.getLong("id"),
			rs.getString("message_id"), rs.getString("topic"), rs.getString("message_key"),
			OutboxStatus.valueOf(rs.getString("status")), rs.getInt("attempts"), rs.getString("last_error"),
			Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("not_before")),
			sentAt(rs.getLong("sent_at"), rs.wasNull()), null, null);

	/** With where Kafka wrote each row, on a table that has the columns for it. */
	private static final RowMapper<OutboxMessage> MESSAGE_SENT_AT = (rs, rowNum) -> {
		OutboxMessage message = MESSAGE.mapRow(rs, rowNum);
		int partition = rs.getInt("sent_partition");
		Integer sentPartition = rs.wasNull() ? null : partition;
		long offset = rs.getLong("sent_offset");
		Long sentOffset = rs.wasNull() ? null : offset;
		return new OutboxMessage(message.id(), message.messageId(), message.topic(), message.key(), message.status(),
				message.attempts(), message.lastError(), message.createdAt(), message.notBefore(), message.sentAt(),
				sentPartition, sentOffset);
	};

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final NamedParameterJdbcTemplate named;

	private final String table;

	/** Whether the table has {@code sent_partition} and {@code sent_offset}; {@code null} until known. */
	private volatile @Nullable Boolean sentPositions;

	/**
	 * Create the operations.
	 * @param dataSource the application's data source
	 * @param table the table name, optionally schema-qualified
	 */
	JdbcOutboxOperations(DataSource dataSource, String table) {
		OutboxStore.checkTable(table);
		this.dataSource = dataSource;
		this.jdbc = new JdbcTemplate(dataSource);
		this.named = new NamedParameterJdbcTemplate(this.jdbc);
		this.table = table;
	}

	/** The columns and row mapper of a message: with where it was written when the table has the columns. */
	private String columns() {
		return sentPositions() ? MESSAGE_COLUMNS + ", sent_partition, sent_offset" : MESSAGE_COLUMNS;
	}

	private RowMapper<OutboxMessage> mapper() {
		return sentPositions() ? MESSAGE_SENT_AT : MESSAGE;
	}

	private boolean sentPositions() {
		Boolean known = this.sentPositions;
		if (known == null) {
			known = OutboxStore.hasSentPositions(this.dataSource, this.table);
			this.sentPositions = known;
		}
		return known;
	}

	private static @Nullable Instant sentAt(long sentAt, boolean none) {
		return none ? null : Instant.ofEpochMilli(sentAt);
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
