package io.github.reliablekafka.idempotency;

import io.github.reliablekafka.testing.TestDatabase;

class H2IdempotencyTests extends AbstractIdempotencyTests {

	@Override
	protected String store() {
		return "jdbc";
	}

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.h2();
	}

}
