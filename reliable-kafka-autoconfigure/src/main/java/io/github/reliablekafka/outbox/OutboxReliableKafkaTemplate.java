package io.github.reliablekafka.outbox;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.sql.DataSource;

import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.ReliableRecords;
import io.github.reliablekafka.producer.ReliableSendException;
import io.github.reliablekafka.producer.ScheduledMessage;
import io.github.reliablekafka.producer.SendFuture;
import io.github.reliablekafka.support.RecordTracing;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.kafka.support.SendResult;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.Assert;

/**
 * A {@link ReliableKafkaTemplate} that records every message in the outbox table first: in the caller's
 * Spring-managed transaction when there is one (published only after it commits; a rollback publishes nothing),
 * otherwise committed on its own before it is published. The {@link OutboxRelay} makes sure every recorded message
 * reaches Kafka.
 *
 * <p>
 * The future of {@code send} completes when Kafka confirms the message. It fails with
 * {@link OutboxPendingException} when no confirmation came within the confirmation time-out: the message is then
 * still committed and still published, <b>not lost</b>.
 */
final class OutboxReliableKafkaTemplate implements ReliableKafkaTemplate {

	private final OutboxWriter writer;

	/** The template's only way into the relay. */
	private final RelayPort relay;

	private final ReliableRecords records;

	private final RecordTracing tracing;

	private final JdbcTemplate jdbc;

	private final Duration sendTimeout;

	/**
	 * Create a template.
	 * @param writer writes the outbox's rows
	 * @param relay the relay that publishes committed rows
	 * @param records builds the records
	 * @param jdbc the template on the outbox's data source, to check that a transaction includes it
	 * @param sendTimeout how long {@code sendAndWait} waits
	 * @param tracing writes the sender's trace context into each message's headers
	 */
	OutboxReliableKafkaTemplate(OutboxWriter writer, OutboxRelay relay, ReliableRecords records, JdbcTemplate jdbc,
			Duration sendTimeout, RecordTracing tracing) {
		this.tracing = tracing;
		this.writer = writer;
		this.relay = relay.port();
		this.records = records;
		this.jdbc = jdbc;
		this.sendTimeout = sendTimeout;
	}

	@Override
	public SendFuture send(String topic, @Nullable String key, @Nullable Object payload) {
		return record(topic, key, payload);
	}

	private SendFuture record(String topic, @Nullable String key, @Nullable Object payload) {
		String messageId = MessageIds.next();
		ProducerRecord<String, byte[]> record = this.records.create(messageId, topic, key, payload);
		PendingRows transaction = checkTransaction();
		this.tracing.inject(record.headers());
		SendFuture future = this.relay.track(messageId, record);
		long leaseUntil = this.relay.writerLeaseUntil();
		write(record, messageId, System.currentTimeMillis(), leaseUntil, transaction);
		afterCompletion(() -> this.relay.committed(messageId, leaseUntil),
				(outcome) -> this.relay.notPublished(messageId, notPublished(outcome, "sent", record)));
		return future;
	}

	/**
	 * {@inheritDoc}
	 * @throws IllegalStateException when called inside a transaction: the message is published only after the
	 * transaction commits, so waiting for it there could only time out
	 */
	@Override
	public SendResult<String, byte[]> sendAndWait(String topic, @Nullable String key, @Nullable Object payload) {
		Assert.state(!TransactionSynchronizationManager.isActualTransactionActive(),
				"sendAndWait cannot wait for Kafka inside a transaction: with the outbox the message is published "
						+ "after the transaction commits. Use send and its future, or call sendAndWait outside the "
						+ "transaction.");
		SendFuture recorded = record(topic, key, payload);
		try {
			return recorded.get(this.sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (TimeoutException ex) {
			throw new ReliableSendException("Message rk-id=" + recorded.messageId() + " to topic " + topic
					+ " is committed in the outbox but was not confirmed within " + this.sendTimeout.toMillis()
					+ " ms; it is not lost and is still being published", recorded.messageId(), topic, key, 0, ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new ReliableSendException("Interrupted while waiting; message rk-id=" + recorded.messageId()
					+ " is committed in the outbox and still being published", recorded.messageId(), topic, key, 0, ex);
		}
		catch (ExecutionException ex) {
			Throwable cause = ex.getCause();
			throw new ReliableSendException(String.valueOf(cause.getMessage()), recorded.messageId(), topic, key, 0,
					cause);
		}
	}

	@Override
	public CompletableFuture<ScheduledMessage> sendDelayed(String topic, @Nullable String key, @Nullable Object payload,
			Duration delay) {
		Assert.isTrue(!delay.isNegative(), "delay must not be negative");
		String messageId = MessageIds.next();
		ProducerRecord<String, byte[]> record = this.records.create(messageId, topic, key, payload);
		PendingRows transaction = checkTransaction();
		this.tracing.inject(record.headers());
		long dueAt = System.currentTimeMillis() + delay.toMillis();
		write(record, messageId, dueAt, 0, transaction);
		CompletableFuture<ScheduledMessage> scheduled = new CompletableFuture<>();
		ScheduledMessage message = new ScheduledMessage(messageId, Instant.ofEpochMilli(dueAt));
		afterCompletion(() -> {
			relayScheduled(dueAt);
			scheduled.complete(message);
		}, (outcome) -> scheduled.completeExceptionally(notPublished(outcome, "scheduled", record)));
		return scheduled;
	}

	private void relayScheduled(long dueAt) {
		this.relay.scheduled(dueAt);
	}

	/**
	 * Write the row; leased to this instance's writer token until {@code leaseUntil} when that is positive. When the
	 * transaction's connection writes rows with the commit, the row is handed to it, to be inserted in the commit's
	 * round trip; otherwise it is inserted now.
	 */
	private void write(ProducerRecord<String, byte[]> record, String messageId, long notBefore, long leaseUntil,
			@Nullable PendingRows transaction) {
		OutboxRow row = new OutboxRow(0, messageId, record.topic(), record.key(), record.value(),
				HeaderCodec.encode(record.headers()), System.currentTimeMillis(), notBefore, 0);
		String owner = (leaseUntil > 0) ? this.relay.owner() : null;
		try {
			if (transaction != null && transaction.defer(new PendingRows.PendingRow(this.writer, row, owner, leaseUntil))) {
				return;
			}
			this.writer.insert(row, owner, leaseUntil);
		}
		catch (SQLException ex) {
			this.relay.notPublished(messageId, notPublished(SentInTransaction.Outcome.ROLLED_BACK, "sent", record));
			throw new OutboxWriteException("Could not hand message rk-id=" + messageId + " to the transaction's "
					+ "connection: " + ex.getMessage() + "; the caller's transaction must roll back and nothing was sent",
					ex);
		}
		catch (DataAccessException ex) {
			boolean inTransaction = TransactionSynchronizationManager.isActualTransactionActive();
			if (!inTransaction && connectionLostWhileWriting(ex)) {
				// auto-committed: the database may have written the row before the connection failed
				OutboxInDoubtException inDoubt = new OutboxInDoubtException("The connection failed while message rk-id="
						+ messageId + " for topic " + record.topic() + " was written to outbox table " + this.writer.table()
						+ " (no transaction): whether the row was written is not known. If it was, the relay publishes "
						+ "it; if not, nothing is sent. OutboxOperations.find(\"" + messageId + "\") tells which. Cause: "
						+ ex.getMostSpecificCause().getMessage(), messageId, record.topic(), record.key());
				this.relay.notPublished(messageId, inDoubt);
				throw inDoubt;
			}
			this.relay.notPublished(messageId, new ReliableSendException("Message rk-id=" + messageId + " could not "
					+ "be written to the outbox; it is not published", messageId, record.topic(), record.key(), 0, ex));
			throw new OutboxWriteException("Could not write message rk-id=" + messageId + " for topic " + record.topic()
					+ " to outbox table " + this.writer.table() + (inTransaction ? "; the caller's transaction must roll "
							+ "back and nothing was sent: " : "; nothing was written or sent: ")
					+ ex.getMostSpecificCause().getMessage(), ex);
		}
	}

	/**
	 * Whether a write failed because the connection failed while the statement was under way (SQL state class
	 * {@code 08}), after it may have reached the database; not when no connection could be had.
	 */
	static boolean connectionLostWhileWriting(DataAccessException ex) {
		if (ex instanceof CannotGetJdbcConnectionException) {
			return false;
		}
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (cause instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("08")) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Refuse to write inside a transaction that does not include the outbox's data source (before anything is
	 * tracked or written).
	 * @return the transaction's connection when it writes rows with the commit, else {@code null}
	 */
	private @Nullable PendingRows checkTransaction() {
		if (!TransactionSynchronizationManager.isActualTransactionActive()) {
			return null;
		}
		DataSource dataSource = this.jdbc.getDataSource();
		Assert.state(dataSource != null, "No DataSource");
		Connection connection = DataSourceUtils.getConnection(dataSource);
		try {
			Assert.state(!connection.getAutoCommit(), () -> "The current transaction does not include the outbox's "
					+ "DataSource: writing to table " + this.writer.table() + " would commit at once, and a rollback "
					+ "could not take the message back. Use a transaction manager for that DataSource.");
			return (connection instanceof PendingRows rows) ? rows : null;
		}
		catch (SQLException ex) {
			DataAccessException translated = this.jdbc.getExceptionTranslator().translate("getAutoCommit", null, ex);
			throw (translated != null) ? translated : new UncategorizedSQLException("getAutoCommit", null, ex);
		}
		finally {
			DataSourceUtils.releaseConnection(connection, dataSource);
		}
	}

	/**
	 * Run {@code committed} once the transaction commits, or at once outside a transaction; tell
	 * {@code notCommitted} how the transaction ended otherwise.
	 */
	private void afterCompletion(Runnable committed, SentInTransaction.NotCommitted notCommitted) {
		if (!TransactionSynchronizationManager.isSynchronizationActive()) {
			committed.run();
			return;
		}
		TransactionSynchronizationManager.registerSynchronization(new SentInTransaction(committed, notCommitted));
	}

	/**
	 * The failure a message's future gets when its transaction did not commit it.
	 * @param verb what the transaction did with it ({@code sent}, {@code scheduled})
	 */
	private static ReliableSendException notPublished(SentInTransaction.Outcome outcome, String verb,
			ProducerRecord<String, byte[]> record) {
		String messageId = RkHeaders.id(record.headers());
		return switch (outcome) {
			case ROLLED_BACK -> new ReliableSendException("The transaction that " + verb + " rk-id=" + messageId
					+ " rolled back; the message is not published", messageId, record.topic(), record.key(), 0, null);
			case ROLLED_BACK_TO_SAVEPOINT -> new ReliableSendException("The transaction that " + verb + " rk-id="
					+ messageId + " rolled back to a savepoint set before it (a nested transaction rolled back); the "
					+ "message is not published", messageId, record.topic(), record.key(), 0, null);
			case IN_DOUBT -> new OutboxInDoubtException("The commit of the transaction that " + verb + " rk-id="
					+ messageId + " failed and its outcome is not known: if the database rolled it back, the message "
					+ "is not published; if it committed, the message is in the outbox and the relay publishes it. "
					+ "OutboxOperations.find(\"" + messageId + "\") tells which", messageId, record.topic(),
					record.key());
		};
	}

}
