package io.github.reliablekafka.idempotency;

import io.github.reliablekafka.testing.TestDatabase;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The ledger on H2. The tests that kill consumer JVMs or overlap two consumers run with {@code -Pslow} only: H2 runs
 * the same ledger statements as MariaDB (only PostgreSQL has statements of its own), whose suite runs them in CI;
 * together they took 69 s of CI time.
 */
class H2IdempotencyTests extends AbstractIdempotencyTests {

	@Override
	protected String store() {
		return "jdbc";
	}

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.h2();
	}

	@Override
	@Test
	@Tag("slow")
	void redeliveryAfterConsumerKillChangesNothingTwice() throws Exception {
		super.redeliveryAfterConsumerKillChangesNothingTwice();
	}

	@Override
	@Test
	@Tag("slow")
	void aRecordThatKillsItsConsumerEveryTimeGoesToTheDeadLetterTopicAndTheRestFlowOn() throws Exception {
		super.aRecordThatKillsItsConsumerEveryTimeGoesToTheDeadLetterTopicAndTheRestFlowOn();
	}

	@Override
	@Test
	@Tag("slow")
	void theSameKeyOnTwoConsumersAtOnceRunsOnce() throws Exception {
		super.theSameKeyOnTwoConsumersAtOnceRunsOnce();
	}

}
