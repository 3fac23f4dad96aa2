package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;
import org.junit.jupiter.api.Test;

class PostgresOutboxTests extends AbstractOutboxTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

	@Test
	@Override
	protected void noCommittedMessageIsLostWhenBrokerIsKilled() throws Exception {
		super.noCommittedMessageIsLostWhenBrokerIsKilled();
	}

}
