package io.github.reliablekafka.autoconfigure.outbox;

import java.time.Duration;

import io.github.reliablekafka.autoconfigure.RetryProperties;

import io.github.reliablekafka.outbox.OnFailed;
import io.github.reliablekafka.outbox.PublishMode;

import io.github.reliablekafka.support.SchemaInitialization;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/**
 * Configuration of the transactional outbox.
 */
@ConfigurationProperties("reliable.kafka.outbox")
public class ReliableKafkaOutboxProperties {

	/**
	 * Whether to record every send in the outbox table first, when the application has a DataSource.
	 */
	private boolean enabled = true;

	/**
	 * Name of the outbox table, optionally schema-qualified.
	 */
	private String table = "rk_outbox";

	/**
	 * When to create the outbox table: always (at startup when it does not exist; an existing table is never altered),
	 * embedded (only on an embedded database), or never (the schema is yours; a missing table stops the application
	 * at startup).
	 */
	private SchemaInitialization initializeSchema = SchemaInitialization.ALWAYS;

	/**
	 * Who publishes committed rows: immediate (the committing instance, right after the commit, with the relay as
	 * back-up) or relay (only relays, from their polls).
	 */
	private PublishMode publishMode = PublishMode.IMMEDIATE;

	/**
	 * What a FAILED row does to the later rows of its key: park (they go on) or block (they wait for an operator).
	 */
	private OnFailed onFailed = OnFailed.PARK;

	/**
	 * How long confirmed rows are kept before they are deleted.
	 */
	private Duration retention = Duration.ofDays(1);

	/**
	 * Whether a transaction on PostgreSQL writes its outbox rows with its commit, in the commit's round trip to the
	 * database, rather than one insert per send while it runs. Applies to transactions of a
	 * DataSourceTransactionManager or JdbcTransactionManager; others insert each row when it is sent.
	 */
	private boolean writeWithCommit = true;

	/**
	 * Publish attempts of a row before it becomes FAILED, and the back-off between them.
	 */
	@NestedConfigurationProperty
	private final RetryProperties retry = new RetryProperties(20, Duration.ofSeconds(1), 2.0, Duration.ofMinutes(1));

	private final Relay relay = new Relay();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public boolean isWriteWithCommit() {
		return this.writeWithCommit;
	}

	public void setWriteWithCommit(boolean writeWithCommit) {
		this.writeWithCommit = writeWithCommit;
	}

	public String getTable() {
		return this.table;
	}

	public void setTable(String table) {
		this.table = table;
	}

	public SchemaInitialization getInitializeSchema() {
		return this.initializeSchema;
	}

	public void setInitializeSchema(SchemaInitialization initializeSchema) {
		this.initializeSchema = initializeSchema;
	}

	public PublishMode getPublishMode() {
		return this.publishMode;
	}

	public void setPublishMode(PublishMode publishMode) {
		this.publishMode = publishMode;
	}



	public OnFailed getOnFailed() {
		return this.onFailed;
	}

	public void setOnFailed(OnFailed onFailed) {
		this.onFailed = onFailed;
	}

	public Duration getRetention() {
		return this.retention;
	}

	public void setRetention(Duration retention) {
		this.retention = retention;
	}

	public RetryProperties getRetry() {
		return this.retry;
	}

	public Relay getRelay() {
		return this.relay;
	}

	/**
	 * The relay that publishes committed rows.
	 */
	public static class Relay {

		/**
		 * How often the relay looks for due rows when nothing wakes it sooner.
		 */
		private Duration pollInterval = Duration.ofSeconds(1);

		/**
		 * Maximum number of rows one claim takes.
		 */
		private int batchSize = 500;

		/**
		 * How long a claim, or in immediate mode the instance that writes a row, holds its rows; renewed while they
		 * are being published. Rows of an instance that died are taken over once it has run out.
		 */
		private Duration lease = Duration.ofSeconds(30);

		public Duration getPollInterval() {
			return this.pollInterval;
		}

		public void setPollInterval(Duration pollInterval) {
			this.pollInterval = pollInterval;
		}

		public int getBatchSize() {
			return this.batchSize;
		}

		public void setBatchSize(int batchSize) {
			this.batchSize = batchSize;
		}

		public Duration getLease() {
			return this.lease;
		}

		public void setLease(Duration lease) {
			this.lease = lease;
		}

	}

}
