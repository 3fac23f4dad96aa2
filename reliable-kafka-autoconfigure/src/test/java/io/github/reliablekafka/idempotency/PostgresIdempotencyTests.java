package io.github.reliablekafka.idempotency;

import io.github.reliablekafka.testing.TestDatabase;

class PostgresIdempotencyTests extends AbstractIdempotencyTests {

	@Override
	protected String store() {
		return "jdbc";
	}

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

}
