package io.github.reliablekafka.outbox;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which failed writes outside a transaction are in doubt: those where the connection failed while the insert was
 * under way, not those that never had a connection or that the database refused. The whole path, with a real lost
 * reply: {@link AbstractInDoubtTests}.
 */
class OutboxWriteFailuresTests {

	@Test
	void aConnectionThatFailsWhileTheInsertIsUnderWayLeavesItInDoubt() {
		assertThat(OutboxReliableKafkaTemplate.connectionLostWhileWriting(new DataAccessResourceFailureException(
				"insert", new SQLException("An I/O error occurred while sending to the backend", "08006"))))
			.isTrue();
	}

	@Test
	void noConnectionOrARefusalIsNotInDoubt() {
		assertThat(OutboxReliableKafkaTemplate.connectionLostWhileWriting(new CannotGetJdbcConnectionException(
				"Failed to obtain JDBC Connection", new SQLTransientConnectionException("pool timed out", "08001"))))
			.isFalse();
		assertThat(OutboxReliableKafkaTemplate.connectionLostWhileWriting(new BadSqlGrammarException("insert",
				"INSERT INTO rk_missing", new SQLException("relation does not exist", "42P01"))))
			.isFalse();
		assertThat(OutboxReliableKafkaTemplate.connectionLostWhileWriting(
				new DataAccessResourceFailureException("no state", new SQLException("unknown"))))
			.isFalse();
	}

}
