package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;

class H2OutboxTests extends AbstractOutboxTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.h2();
	}

}
