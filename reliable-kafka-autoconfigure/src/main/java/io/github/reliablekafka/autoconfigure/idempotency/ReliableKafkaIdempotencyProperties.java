package io.github.reliablekafka.autoconfigure.idempotency;

import java.time.Duration;

import io.github.reliablekafka.idempotency.IdempotencyKeyStrategy;
import io.github.reliablekafka.idempotency.IdempotencyStore;

import io.github.reliablekafka.support.SchemaInitialization;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the idempotency guard that reliable listeners run inside.
 */
@ConfigurationProperties("reliable.kafka.consumer.idempotency")
public class ReliableKafkaIdempotencyProperties {

	/**
	 * Which guard reliable listeners use: auto (two-tier when the application has both Redis and a DataSource,
	 * else whichever it has, else none), redis, jdbc, two-tier or none.
	 */
	private IdempotencyStore store = IdempotencyStore.AUTO;

	/**
	 * Where a record's idempotency key comes from: message-id (the rk-id header; records without one fall back to
	 * payload-hash), payload-hash (SHA-256 of topic, key and value) or expression (each listener's idempotencyKey).
	 */
	private IdempotencyKeyStrategy key = IdempotencyKeyStrategy.MESSAGE_ID;

	/**
	 * How long a done key is remembered: the Redis TTL and the ledger's retention (dead letters kept for look-up are
	 * kept as long). Should be at least the retention.ms of the listened topics.
	 */
	private Duration ttl = Duration.ofDays(7);

	/**
	 * How long a Redis claim (PROCESSING) holds a key after its consumer died before another may run it.
	 */
	private Duration lease = Duration.ofMinutes(5);

	/**
	 * Claims of a record that never finished (its consumer died each time) before it goes to the dead-letter
	 * topic. With the jdbc and two-tier stores, a record that kills its consumer while it follows a new record on the
	 * consumer thread is claimed from its first replay on: up to max-claims + 1 kills.
	 */
	private int maxClaims = 3;

	/**
	 * Name of the ledger table, optionally schema-qualified; the dead letters kept for look-up are in the table of this
	 * name followed by _dead_letter.
	 */
	private String table = "rk_consumed";

	/**
	 * When to create the ledger table and its dead-letter table: always (at startup when they do not exist; an existing
	 * table is never altered), embedded (only on an embedded database), or never (the schema is yours; a missing table
	 * stops the application at startup).
	 */
	private SchemaInitialization initializeSchema = SchemaInitialization.ALWAYS;

	/**
	 * Prefix of the guard's Redis keys.
	 */
	private String redisKeyPrefix = "rk:idem:";

	public IdempotencyStore getStore() {
		return this.store;
	}

	public void setStore(IdempotencyStore store) {
		this.store = store;
	}

	public IdempotencyKeyStrategy getKey() {
		return this.key;
	}

	public void setKey(IdempotencyKeyStrategy key) {
		this.key = key;
	}

	public Duration getTtl() {
		return this.ttl;
	}

	public void setTtl(Duration ttl) {
		this.ttl = ttl;
	}

	public Duration getLease() {
		return this.lease;
	}

	public void setLease(Duration lease) {
		this.lease = lease;
	}

	public int getMaxClaims() {
		return this.maxClaims;
	}

	public void setMaxClaims(int maxClaims) {
		this.maxClaims = maxClaims;
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

	public String getRedisKeyPrefix() {
		return this.redisKeyPrefix;
	}

	public void setRedisKeyPrefix(String redisKeyPrefix) {
		this.redisKeyPrefix = redisKeyPrefix;
	}

}
