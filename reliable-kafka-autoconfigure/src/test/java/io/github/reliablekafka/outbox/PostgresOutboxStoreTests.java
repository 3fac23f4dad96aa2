package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;

class PostgresOutboxStoreTests extends AbstractOutboxStoreTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

}
