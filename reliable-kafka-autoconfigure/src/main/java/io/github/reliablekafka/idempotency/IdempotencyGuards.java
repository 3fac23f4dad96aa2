package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

import org.apache.kafka.clients.admin.Admin;

import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Creates the idempotency guards.
 */
public final class IdempotencyGuards {

	private IdempotencyGuards() {
	}

	/**
	 * A guard on Redis alone.
	 * @param redis the template
	 * @param keyPrefix prefix of the guard's keys
	 * @param ttl how long a done key is remembered
	 * @param lease how long a claim holds a key when its consumer dies
	 * @param maxClaims claims without finishing before a record is dead-lettered
	 * @param listener hears each check
	 * @return the guard
	 */
	public static IdempotencyGuard redis(StringRedisTemplate redis, String keyPrefix, Duration ttl, Duration lease,
			int maxClaims, GuardListener listener) {
		return new RedisIdempotencyGuard(redis, new RedisKeys(keyPrefix), ttl, lease, maxClaims, listener);
	}

	/**
	 * A guard on the database ledger alone.
	 * @param ledger the ledger table
	 * @param transactions the transactions the work runs in, on the ledger's data source
	 * @param maxClaims claims without finishing before a record is dead-lettered
	 * @param listener hears each check
	 * @return the guard
	 */
	public static IdempotencyGuard jdbc(ConsumedLedger ledger, TransactionTemplate transactions, int maxClaims,
			GuardListener listener) {
		return new JdbcIdempotencyGuard(ledger, transactions, maxClaims, listener);
	}

	/**
	 * Redis in front of the database ledger.
	 * @param redis the template
	 * @param keyPrefix prefix of the guard's Redis keys
	 * @param ledger the ledger table
	 * @param transactions the transactions the work runs in, on the ledger's data source
	 * @param ttl how long a done key is remembered in Redis
	 * @param lease used to size how long claim counts are kept
	 * @param maxClaims claims without finishing before a record is dead-lettered
	 * @param listener hears each check
	 * @return the guard
	 */
	public static IdempotencyGuard twoTier(StringRedisTemplate redis, String keyPrefix, ConsumedLedger ledger,
			TransactionTemplate transactions, Duration ttl, Duration lease, int maxClaims, GuardListener listener) {
		return new TwoTierIdempotencyGuard(redis, new RedisKeys(keyPrefix), ledger, transactions, ttl, lease, maxClaims,
				listener);
	}

	/**
	 * The ledger's cleaner: deletes rows older than the TTL, on a scheduler of its own while it runs.
	 * @param ledger the ledger
	 * @param ttl how long a done key is remembered
	 * @return the cleaner, a lifecycle bean
	 */
	public static SmartLifecycle ledgerCleaner(ConsumedLedger ledger, Duration ttl) {
		return new LedgerCleaner(ledger, ttl);
	}

	/**
	 * Compare the retention of the listeners' topics with the guards' TTL.
	 * @param admin the admin client to ask the cluster with
	 * @param topics the reliable listeners' topics
	 * @param ttl how long a done key is remembered
	 * @return one warning per topic that keeps records longer than the TTL; empty when none does
	 * @throws Exception when the cluster could not be asked
	 */
	public static List<String> retentionWarnings(Admin admin, Collection<String> topics, Duration ttl)
			throws Exception {
		return RetentionCheck.warnings(admin, topics, ttl);
	}

	/**
	 * A lifecycle bean that stops the guard's background work when the context stops: after the listener containers,
	 * which may still queue the two-tier guard's {@code DONE} writes, and before the Redis connection factory closes
	 * its connections, so that the writes waiting reach Redis (up to 5 s).
	 * @param idempotency the listeners' idempotency set-up
	 * @return the lifecycle bean
	 */
	public static SmartLifecycle stopWithTheContext(ReliableIdempotency idempotency) {
		return new GuardLifecycle(idempotency);
	}

}
