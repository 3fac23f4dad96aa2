package io.github.reliablekafka.support;

/**
 * When the library creates one of its tables (the outbox, the idempotency ledger).
 */
public enum SchemaInitialization {

	/**
	 * Create the table at startup when it does not exist, on any supported database. An existing table is never
	 * altered, dropped or locked.
	 */
	ALWAYS,

	/** Create the table only on an embedded database (H2 in memory, say), as Spring Boot does with its own scripts. */
	EMBEDDED,

	/** Never create it: the schema is yours (Flyway, Liquibase). A missing table stops the application at startup. */
	NEVER

}
