package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;

class H2OutboxStoreTests extends AbstractOutboxStoreTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.h2();
	}

}
