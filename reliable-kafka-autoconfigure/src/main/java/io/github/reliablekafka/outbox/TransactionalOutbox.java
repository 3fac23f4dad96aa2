package io.github.reliablekafka.outbox;

import java.time.Duration;

import javax.sql.DataSource;

import io.github.reliablekafka.internal.LibraryTable;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.ReliableRecords;
import io.github.reliablekafka.producer.SendOutcomeListener;
import io.github.reliablekafka.support.RecordTracing;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.core.KafkaOperations;

/**
 * The transactional outbox of one table, as the auto-configuration builds it: the table, its writer and the relay that
 * publishes its rows. It is the context's lifecycle bean for the relay and the only public way to its parts, which
 * stay package-private: users send through the {@link ReliableKafkaTemplate} it makes, and read or re-queue rows
 * through {@link OutboxOperations}. No method here names a Micrometer type: the class is loaded by applications
 * without Micrometer ({@link OutboxMetrics} holds the meters).
 */
public final class TransactionalOutbox implements SmartLifecycle, DisposableBean {

	private final OutboxStore store;

	private final OutboxWriter writer;

	private final OutboxRelay relay;

	private final RecordTracing tracing;

	/**
	 * Create the outbox of a table.
	 * @param dataSource the database the table is in
	 * @param table the table's name, already checked
	 * @param kafka the template the relay publishes with
	 * @param settings how the relay works
	 * @param listener hears every publish outcome, as for direct sends
	 * @param resources closed when the outbox is destroyed, such as the producer factory the relay owns; may be
	 * {@code null}
	 */
	public TransactionalOutbox(DataSource dataSource, String table, KafkaOperations<String, byte[]> kafka,
			OutboxRelaySettings settings, SendOutcomeListener listener, @Nullable AutoCloseable resources) {
		this(dataSource, table, kafka, settings, listener, resources, RecordTracing.NONE);
	}

	/**
	 * Create the outbox of a table, carrying senders' traces to the relay's publishes.
	 * @param dataSource the database the table is in
	 * @param table the table's name, already checked
	 * @param kafka the template the relay publishes with
	 * @param settings how the relay works
	 * @param listener hears every publish outcome, as for direct sends
	 * @param resources closed when the outbox is destroyed, such as the producer factory the relay owns; may be
	 * {@code null}
	 * @param tracing carries each sender's trace context with its row
	 */
	public TransactionalOutbox(DataSource dataSource, String table, KafkaOperations<String, byte[]> kafka,
			OutboxRelaySettings settings, SendOutcomeListener listener, @Nullable AutoCloseable resources,
			RecordTracing tracing) {
		this.writer = new OutboxWriter(dataSource, table);
		this.store = new OutboxStore(dataSource, table);
		this.tracing = tracing;
		this.relay = new OutboxRelay(this.store, kafka, settings, listener, resources, tracing);
	}

	/**
	 * Describe the outbox table for schema initialization and the startup checks.
	 * @param table the table's name
	 * @return its description
	 */
	public static LibraryTable libraryTable(String table) {
		return OutboxStore.libraryTable(table);
	}

	/**
	 * Create the default {@link OutboxOperations}: queries and re-queues on the table.
	 * @param dataSource the database the table is in
	 * @param table the table's name
	 * @return the operations
	 */
	public static OutboxOperations operations(DataSource dataSource, String table) {
		return new JdbcOutboxOperations(dataSource, table);
	}

	/**
	 * Create the template that records every send in this outbox.
	 * @param records builds the records
	 * @param jdbc runs the writes on the caller's connection
	 * @param sendTimeout how long {@code sendAndWait} waits for Kafka's confirmation
	 * @return the template
	 */
	public ReliableKafkaTemplate template(ReliableRecords records, JdbcTemplate jdbc, Duration sendTimeout) {
		return new OutboxReliableKafkaTemplate(this.writer, this.relay, records, jdbc, sendTimeout, this.tracing);
	}

	/**
	 * Return how many rows this instance's relay published since it started.
	 * @return the count
	 */
	public long publishedCount() {
		return this.relay.publishedCount();
	}

	/**
	 * Return how many rows this instance's relay gave up on since it started.
	 * @return the count
	 */
	public long failedCount() {
		return this.relay.failedCount();
	}

	OutboxStore store() {
		return this.store;
	}

	OutboxWriter writer() {
		return this.writer;
	}

	OutboxRelay relay() {
		return this.relay;
	}

	@Override
	public void start() {
		this.relay.start();
	}

	@Override
	public void stop() {
		this.relay.stop();
	}

	@Override
	public boolean isRunning() {
		return this.relay.isRunning();
	}

	/**
	 * Stop after the listener containers (which may still send while they stop) and before the producer closes.
	 */
	@Override
	public int getPhase() {
		return this.relay.getPhase();
	}

	@Override
	public void destroy() throws Exception {
		this.relay.destroy();
	}

}
