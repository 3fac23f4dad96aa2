package io.github.reliablekafka.idempotency;

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

}
