package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;

class PostgresOutboxTests extends AbstractOutboxTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

}
