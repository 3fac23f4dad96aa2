package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;

class MariaDbOutboxStoreTests extends AbstractOutboxStoreTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.mariadb();
	}

}
