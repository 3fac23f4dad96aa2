package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;

class MariaDbOutboxTests extends AbstractOutboxTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.mariadb();
	}

}
