package io.github.reliablekafka.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.SendFuture;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.LostReplyProxy;
import io.github.reliablekafka.testing.TopicWatcher;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Writes whose outcome the application cannot know: the database carried out the commit (or the auto-committed
 * insert) and the connection broke before its reply came back ({@link LostReplyProxy}, between the application and
 * the database). The send is reported in doubt, never as not sent, and what was committed is published once, in its
 * key's order. Run on each database with a server through a subclass.
 */
abstract class AbstractInDoubtTests extends OutboxDatabaseTestSupport {

	@Test
	void aCommitWhoseReplyIsLostIsInDoubtAndWhatItCommittedIsPublishedOnceAndInItsKeysOrder() throws Exception {
		commitReplyLost(); // on PostgreSQL the rows are written with the commit
	}

	/**
	 * Lose the reply to a transaction's commit; more properties for the application.
	 */
	void commitReplyLost(String... properties) throws Exception {
		String topic = KafkaTestSupport.newTopic("outbox-commit-in-doubt", 1);
		try (LostReplyProxy proxy = LostReplyProxy.inFrontOf(database().url())) {
			List<String> all = new ArrayList<>(List.of("test.db.url=" + proxy.url(),
					"reliable.kafka.outbox.relay.lease=2s"));
			all.addAll(List.of(properties));
			ConfigurableApplicationContext context = start(all.toArray(String[]::new));
			JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
			jdbc.execute("CREATE TABLE business_row (id INT PRIMARY KEY)");
			ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
			TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
			List<SendFuture> inDoubt = new ArrayList<>();
			proxy.loseCommitReplyOfConnectionSending("in doubt");
			assertThatExceptionOfType(TransactionSystemException.class)
				.isThrownBy(() -> transactions.executeWithoutResult((status) -> {
					jdbc.update("INSERT INTO business_row VALUES (1)");
					inDoubt.add(template.send(topic, "k", "in doubt"));
				}));
			assertThat(proxy.dropped()).as("replies lost").isEqualTo(1);
			assertThat(inDoubt.get(0)).failsWithin(Duration.ofSeconds(5))
				.withThrowableThat()
				.havingCause()
				.isInstanceOf(OutboxInDoubtException.class);
			assertThat(rows("SELECT COUNT(*) FROM business_row")).as("committed, though the application was not told")
				.isEqualTo(1);
			assertThat(context.getBean(OutboxOperations.class).find(inDoubt.get(0).messageId())).isPresent();
			// the key's next message waits for the one in doubt, which the relay takes once its writer lease ran out
			SendFuture after = transactions.execute((status) -> template.send(topic, "k", "after"));
			assertThat(after.get(30, TimeUnit.SECONDS)).isNotNull();
			try (TopicWatcher watcher = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic)) {
				watcher.awaitIds(Set.of(inDoubt.get(0).messageId(), after.messageId()), Duration.ofSeconds(30));
				assertThat(watcher.readFor(Duration.ofSeconds(2)))
					.extracting((record) -> new String(record.value(), StandardCharsets.UTF_8))
					.containsExactly("in doubt", "after");
			}
			context.close(); // before the proxy: the relay's connections go through it
		}
	}

	@Test
	void aSendOutsideATransactionWhoseInsertReplyIsLostThrowsInDoubtAndTheRowIsPublishedOnce() throws Exception {
		String topic = KafkaTestSupport.newTopic("outbox-insert-in-doubt", 1);
		try (LostReplyProxy proxy = LostReplyProxy.inFrontOf(database().url())) {
			ConfigurableApplicationContext context = start("test.db.url=" + proxy.url(),
					"reliable.kafka.outbox.relay.lease=2s");
			ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
			proxy.loseReplyTo("in doubt");
			OutboxInDoubtException inDoubt = assertThrows(OutboxInDoubtException.class,
					() -> template.send(topic, "k", "in doubt"));
			assertThat(inDoubt).hasMessageContaining("whether the row was written is not known")
				.hasMessageContaining("OutboxOperations.find");
			assertThat(proxy.dropped()).as("replies lost").isEqualTo(1);
			assertThat(context.getBean(OutboxOperations.class).find(inDoubt.getMessageId())).as("written after all")
				.isPresent();
			SendFuture after = template.send(topic, "k", "after");
			assertThat(after.get(30, TimeUnit.SECONDS)).isNotNull();
			try (TopicWatcher watcher = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic)) {
				watcher.awaitIds(Set.of(inDoubt.getMessageId(), after.messageId()), Duration.ofSeconds(30));
				assertThat(watcher.readFor(Duration.ofSeconds(2)))
					.extracting((record) -> new String(record.value(), StandardCharsets.UTF_8))
					.containsExactly("in doubt", "after");
			}
			context.close(); // before the proxy: the relay's connections go through it
		}
	}

}
