package io.github.reliablekafka.outbox;

import io.github.reliablekafka.testing.TestDatabase;

/**
 * {@link AbstractInDoubtTests} on MariaDB.
 */
class MariaDbInDoubtTests extends AbstractInDoubtTests {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.mariadb();
	}

}
