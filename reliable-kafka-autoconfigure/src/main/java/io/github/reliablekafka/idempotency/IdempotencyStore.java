package io.github.reliablekafka.idempotency;

/**
 * Which idempotency guard reliable listeners use.
 */
public enum IdempotencyStore {

	/** Two-tier when the application has both Redis and a DataSource, else whichever it has, else none. */
	AUTO,

	/** Redis alone. */
	REDIS,

	/** The database ledger alone. */
	JDBC,

	/** Redis in front of the database ledger. */
	TWO_TIER,

	/** No guard: a redelivered record runs again. */
	NONE

}
