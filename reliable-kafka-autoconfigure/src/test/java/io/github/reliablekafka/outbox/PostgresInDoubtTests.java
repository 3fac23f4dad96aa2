package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;
import org.junit.jupiter.api.Test;

/**
 * {@link AbstractInDoubtTests} on PostgreSQL, with the rows written with the commit and inserted when sent.
 */
class PostgresInDoubtTests extends AbstractInDoubtTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

	@Test
	void aCommitWhoseReplyIsLostIsInDoubtWhenEachRowWasInsertedWhenSent() throws Exception {
		commitReplyLost("reliable.kafka.outbox.write-with-commit=false");
	}

}
