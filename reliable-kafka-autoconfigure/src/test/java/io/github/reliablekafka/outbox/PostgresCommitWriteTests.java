package io.github.reliablekafka.outbox;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.SendFuture;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TopicWatcher;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.kafka.support.SendResult;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * On PostgreSQL a transaction writes its outbox rows with its commit, in the commit's round trip ({@code INSERT ...;
 * COMMIT}): the rows are not in the table while the transaction runs, they are once it committed, a failed write
 * fails the commit, and a failure of the commit itself is reported as the commit's, with the sends in doubt
 * ({@link AbstractInDoubtTests}: and published if the commit in fact went through). Rows sent after a savepoint the
 * transaction rolls back to are not written: {@link AbstractOutboxTests}, on every database. The rest of the outbox contract runs on PostgreSQL with this in
 * {@link PostgresOutboxTests}.
 */
class PostgresCommitWriteTests extends OutboxDatabaseTestSupport {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

	@Test
	void theRowsOfATransactionAreWrittenWithItsCommitInOrderAndPublished() throws Exception {
		String topic = KafkaTestSupport.newTopic("commit-write", 1);
		ConfigurableApplicationContext context = start();
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
		List<CompletableFuture<SendResult<String, byte[]>>> sent = new ArrayList<>();
		long[] seenInside = new long[1];
		context.getBean(TransactionTemplate.class).executeWithoutResult((status) -> {
			Connection connection = DataSourceUtils.getConnection(context.getBean(DataSource.class));
			assertThat(connection).as("the transaction's connection").isInstanceOf(PendingRows.class);
			for (int i = 0; i < 1_200; i++) { // more than one insert statement's rows
				sent.add(template.send(topic, "k" + (i % 100), "m-" + i));
			}
			seenInside[0] = jdbc.queryForObject("SELECT COUNT(*) FROM rk_outbox", Long.class);
		});
		assertThat(seenInside[0]).as("rows in the table while the transaction ran").isZero();
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).isEqualTo(1_200);
		List<String> idOrder = jdbc.queryForList("SELECT message_id FROM rk_outbox ORDER BY id", String.class);
		assertThat(idOrder).as("ids in the order the messages were sent")
			.containsExactlyElementsOf(sent.stream().map(AbstractOutboxTests::idOf).toList());
		for (CompletableFuture<SendResult<String, byte[]>> future : sent) {
			assertThat(future.get(30, TimeUnit.SECONDS)).isNotNull();
		}
		try (TopicWatcher watcher = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic)) {
			List<ConsumerRecord<String, byte[]>> records = watcher.awaitIds(
					sent.stream().map(AbstractOutboxTests::idOf).collect(Collectors.toSet()), Duration.ofSeconds(30));
			assertThat(records).hasSize(1_200);
			for (int key = 0; key < 100; key++) {
				String name = "k" + key;
				int first = key;
				assertThat(records.stream().filter((record) -> name.equals(record.key())))
					.extracting((record) -> new String(record.value(), StandardCharsets.UTF_8))
					.as("key %s published once each, in order", name)
					.containsExactlyElementsOf(java.util.stream.IntStream.range(0, 12)
						.mapToObj((i) -> "m-" + (first + i * 100))
						.toList());
			}
		}
	}

	@Test
	void theRowsAreWrittenWithTheCommitWhenTheDriverSendsPlainQueries() throws Exception {
		String topic = KafkaTestSupport.newTopic("commit-write-simple", 1);
		ConfigurableApplicationContext context = start("test.db.preferQueryMode=simple");
		List<CompletableFuture<SendResult<String, byte[]>>> sent = new ArrayList<>();
		assertThat(rowsSeenInsideTheTransaction(context, (template) -> {
			sent.add(template.send(topic, "k", "it's 'quoted'"));
			sent.add(template.send(topic, null, null)); // no key, a tombstone: NULLs in the statement
		})).as("rows in the table while the transaction ran").isZero();
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).isEqualTo(2);
		for (CompletableFuture<SendResult<String, byte[]>> future : sent) {
			assertThat(future.get(30, TimeUnit.SECONDS)).isNotNull();
		}
		try (TopicWatcher watcher = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic)) {
			List<ConsumerRecord<String, byte[]>> records = watcher.awaitIds(
					sent.stream().map(AbstractOutboxTests::idOf).collect(Collectors.toSet()), Duration.ofSeconds(30));
			assertThat(records.get(0).value()).asString(StandardCharsets.UTF_8).contains("it's 'quoted'");
			assertThat(records.get(1).key()).isNull();
			assertThat(records.get(1).value()).isNull();
		}
	}

	@ParameterizedTest(name = "write-with-commit={0}")
	@ValueSource(booleans = { true, false })
	void aFailureOfTheCommitItselfIsReportedAsTheCommitsAndTheSendsAreInDoubt(boolean writeWithCommit) {
		String topic = KafkaTestSupport.newTopic("commit-write-deferred", 1);
		ConfigurableApplicationContext context = start("reliable.kafka.outbox.write-with-commit=" + writeWithCommit);
		JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
		jdbc.execute("CREATE TABLE parent_row (id INT PRIMARY KEY)");
		jdbc.execute("CREATE TABLE child_row (id INT PRIMARY KEY, parent INT REFERENCES parent_row (id) "
				+ "DEFERRABLE INITIALLY DEFERRED)");
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		List<CompletableFuture<?>> sent = new ArrayList<>();
		// the application's own constraint, checked at the commit: the commit fails as it would without the outbox
		assertThatExceptionOfType(TransactionSystemException.class)
			.isThrownBy(() -> context.getBean(TransactionTemplate.class).executeWithoutResult((status) -> {
				jdbc.update("INSERT INTO child_row VALUES (1, 42)");
				sent.add(template.send(topic, "k", "x"));
				sent.add(template.sendDelayed(topic, "k", "later", Duration.ofSeconds(1)));
			}))
			.withStackTraceContaining("child_row");
		// Spring cannot tell a commit the database refused from one whose connection failed (STATUS_UNKNOWN): the
		// futures say the outcome is unknown and how to find it out, not that the transaction rolled back
		assertThat(sent).hasSize(2).allSatisfy((future) -> assertThat(future).failsWithin(Duration.ZERO)
			.withThrowableThat()
			.havingCause()
			.isInstanceOf(OutboxInDoubtException.class)
			.withMessageContaining("outcome is not known")
			.withMessageContaining("OutboxOperations.find"));
		assertThat(context.getBean(OutboxOperations.class).find(((SendFuture) sent.get(0)).messageId()))
			.as("what find tells: rolled back")
			.isEmpty();
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).isZero();
		assertThat(rows("SELECT COUNT(*) FROM child_row")).isZero();
	}

	@Test
	void aRowThatCannotBeWrittenFailsTheCommitWithTheOutboxsErrorAndNothingIsWritten() {
		String topic = KafkaTestSupport.newTopic("commit-write-too-long", 1);
		ConfigurableApplicationContext context = start();
		JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
		jdbc.execute("CREATE TABLE business_row (id INT PRIMARY KEY)");
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		assertThatExceptionOfType(OutboxWriteException.class)
			.isThrownBy(() -> context.getBean(TransactionTemplate.class).executeWithoutResult((status) -> {
				jdbc.update("INSERT INTO business_row VALUES (1)");
				template.send(topic, "k".repeat(2_000), "a key longer than the message_key column");
			}))
			.withMessageContaining("rk_outbox")
			.withMessageContaining("nothing was sent");
		assertThat(rows("SELECT COUNT(*) FROM business_row")).as("rolled back").isZero();
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).isZero();
	}

	@Test
	void writingWithTheCommitCanBeTurnedOff() {
		ConfigurableApplicationContext context = eachRowIsInsertedWhenSent("reliable.kafka.outbox.write-with-commit=false");
		assertThat(context.getBean(DataSourceTransactionManager.class).getDataSource())
			.isInstanceOf(HikariDataSource.class);
	}

	@Test
	void aDriverThatPutsASavepointAroundEachStatementGetsEachRowInsertedWhenSent() {
		eachRowIsInsertedWhenSent("test.db.autosave=always");
	}

	private ConfigurableApplicationContext eachRowIsInsertedWhenSent(String property) {
		ConfigurableApplicationContext context = start(property);
		String topic = KafkaTestSupport.newTopic("commit-write-not", 1);
		assertThat(rowsSeenInsideTheTransaction(context, (template) -> template.send(topic, "k", "x")))
			.as("inserted when sent")
			.isEqualTo(1);
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).isEqualTo(1);
		return context;
	}

	/**
	 * Run the sends in a transaction and return how many outbox rows a query in that transaction saw after them.
	 */
	private static long rowsSeenInsideTheTransaction(ConfigurableApplicationContext context,
			java.util.function.Consumer<ReliableKafkaTemplate> sends) {
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
		Long seen = context.getBean(TransactionTemplate.class).execute((status) -> {
			sends.accept(template);
			return jdbc.queryForObject("SELECT COUNT(*) FROM rk_outbox", Long.class);
		});
		return (seen != null) ? seen : -1;
	}

	@Test
	void theApplicationsDataSourceBeanIsLeftAsItIs() {
		ConfigurableApplicationContext context = start();
		assertThat(context.getBean(DataSource.class)).isInstanceOf(HikariDataSource.class);
		assertThat(context.getBean(HikariDataSource.class)).isSameAs(context.getBean(DataSource.class));
		assertThat(context.getBean(DataSourceTransactionManager.class).getDataSource())
			.isInstanceOf(CommitWriteDataSource.class);
		assertThat(((CommitWriteDataSource) context.getBean(DataSourceTransactionManager.class).getDataSource())
			.getWrappedObject()).isSameAs(context.getBean(DataSource.class));
	}

}
