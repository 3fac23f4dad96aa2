package io.github.reliablekafka.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.producer.ReliableSendException;
import io.github.reliablekafka.producer.SendFuture;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TopicWatcher;
import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.orm.jpa.EntityManagerFactoryUtils;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The outbox in the transactions of a {@link JpaTransactionManager} (Hibernate) on PostgreSQL, the transaction
 * manager of most Spring Boot applications with a database: the row joins the JPA transaction through the JDBC
 * connection the transaction manager exposes, so the entities and the messages commit or roll back together.
 */
class JpaOutboxTests extends OutboxDatabaseTestSupport {

	@Override
	protected TestDatabase createDatabase() {
		return TestDatabase.postgres();
	}

	@Test
	void aJpaTransactionCommitsItsEntitiesAndItsMessagesTogetherAndARollbackTakesBoth() throws Exception {
		String topic = KafkaTestSupport.newTopic("outbox-jpa", 1);
		ConfigurableApplicationContext context = start("test.tx=jpa");
		assertThat(context.getBean(PlatformTransactionManager.class)).isInstanceOf(JpaTransactionManager.class);
		ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
		EntityManagerFactory entityManagerFactory = context.getBean(EntityManagerFactory.class);
		TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
		List<SendFuture> committed = new ArrayList<>();
		List<CompletableFuture<?>> rolledBack = new ArrayList<>();
		transactions.executeWithoutResult((status) -> {
			entityManager(entityManagerFactory).persist(new JpaOrder(1, "committed"));
			for (int i = 0; i < 3; i++) {
				committed.add(template.send(topic, "k", "committed-" + i));
			}
		});
		transactions.executeWithoutResult((status) -> {
			entityManager(entityManagerFactory).persist(new JpaOrder(2, "rolled back"));
			rolledBack.add(template.send(topic, "k", "rolled-back"));
			rolledBack.add(template.sendDelayed(topic, "k", "rolled-back, delayed", Duration.ofMillis(100)));
			status.setRollbackOnly();
		});
		assertThatIllegalStateException().isThrownBy(() -> transactions.executeWithoutResult((status) -> {
			entityManager(entityManagerFactory).persist(new JpaOrder(3, "failed"));
			rolledBack.add(template.send(topic, "k", "failed"));
			entityManager(entityManagerFactory).flush();
			throw new IllegalStateException("the business logic failed");
		}));
		transactions.executeWithoutResult((status) -> {
			entityManager(entityManagerFactory).persist(new JpaOrder(4, "committed too"));
			committed.add(template.send(topic, "k", "committed-3"));
		});
		assertThat(rolledBack).hasSize(3).allSatisfy((future) -> assertThat(future).failsWithin(Duration.ZERO)
			.withThrowableThat()
			.havingCause()
			.isInstanceOf(ReliableSendException.class)
			.withMessageContaining("rolled back; the message is not published"));
		for (SendFuture future : committed) {
			future.get(30, TimeUnit.SECONDS);
		}
		Set<String> committedIds = committed.stream().map(SendFuture::messageId).collect(Collectors.toSet());
		try (TopicWatcher watcher = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic)) {
			watcher.awaitIds(committedIds, Duration.ofSeconds(30));
			assertThat(watcher.readFor(Duration.ofSeconds(2))) // past the rolled back delayed message's due time
				.extracting((record) -> new String(record.value(), StandardCharsets.UTF_8))
				.containsExactly("committed-0", "committed-1", "committed-2", "committed-3");
		}
		assertThat(rows("SELECT COUNT(*) FROM jpa_order")).isEqualTo(2);
		assertThat(rows("SELECT COUNT(*) FROM rk_outbox")).isEqualTo(4);
	}

	private static EntityManager entityManager(EntityManagerFactory entityManagerFactory) {
		EntityManager entityManager = EntityManagerFactoryUtils.getTransactionalEntityManager(entityManagerFactory);
		assertThat(entityManager).as("the transaction's EntityManager").isNotNull();
		return entityManager;
	}

}
