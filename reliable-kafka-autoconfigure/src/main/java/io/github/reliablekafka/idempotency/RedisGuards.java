package io.github.reliablekafka.idempotency;

import org.jspecify.annotations.Nullable;

import org.springframework.transaction.support.TransactionTemplate;

/**
 * Creates the guards that use Redis, so that code which may run without Redis on the class path does not mention
 * Redis types.
 */
public interface RedisGuards {

	/**
	 * A guard on Redis alone.
	 * @param listener hears each check
	 * @return the guard
	 */
	IdempotencyGuard redis(GuardListener listener);

	/**
	 * Redis in front of the database ledger.
	 * @param ledger the ledger
	 * @param transactions the transactions on the ledger's data source
	 * @param listener hears each check
	 * @return the guard
	 */
	IdempotencyGuard twoTier(ConsumedLedger ledger, TransactionTemplate transactions, GuardListener listener);

	/**
	 * Tell why the guards cannot work with the application's Redis, if they cannot: their scripts name several keys,
	 * which a Redis Cluster refuses unless they share a hash slot. The default, for a Redis they work with, is
	 * {@code null}.
	 * @return what is wrong, or {@code null}
	 */
	default @Nullable String unsupported() {
		return null;
	}

}
