package io.github.reliablekafka.outbox;

import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * MySQL and MariaDB (InnoDB). Bookkeeping runs at read committed: InnoDB's default, repeatable read, would let a
 * claim's check for rows leased by others since its first read see that first read's snapshot, and every statement
 * must see what is committed when it runs. The admission keeps the standard join form: MariaDB has no array
 * aggregate, and admits a transaction of 1,200 rows of one key in time with it.
 */
final class MySqlOutboxDialect extends OutboxDialect {

	@Override
	void configure(TransactionTemplate bookkeeping) {
		bookkeeping.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
	}

}
