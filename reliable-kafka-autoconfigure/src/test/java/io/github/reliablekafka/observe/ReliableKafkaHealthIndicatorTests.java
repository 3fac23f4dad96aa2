package io.github.reliablekafka.observe;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.github.reliablekafka.idempotency.ConsumedLedger;
import io.github.reliablekafka.idempotency.GuardListener;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyGuards;
import io.github.reliablekafka.outbox.OutboxMessage;
import io.github.reliablekafka.outbox.OutboxOperations;
import io.github.reliablekafka.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The health indicator's statuses: an old outbox row, an unreachable outbox database, and idempotency stores that do
 * not answer (a real Redis port nobody listens on, a real H2 ledger).
 */
class ReliableKafkaHealthIndicatorTests {

	private final TestDatabase database = TestDatabase.h2();

	private LettuceConnectionFactory redis;

	@AfterEach
	void close() {
		if (this.redis != null) {
			this.redis.destroy();
		}
		this.database.close();
	}

	@Test
	void anOutboxRowPendingLongerThanTheThresholdGivesTheConfiguredStatus() {
		Health old = indicator(new FixedOutbox(Duration.ofMinutes(7), null), null).health();
		assertThat(old.getStatus()).isEqualTo(new Status("LAGGING"));
		assertThat(old.getDetails().get("outbox")).asString().contains("pending=3").contains("PT7M");
		assertThat(indicator(new FixedOutbox(Duration.ofSeconds(2), null), null).health().getStatus())
			.isEqualTo(Status.UP);
	}

	@Test
	void anOutboxDatabaseThatDoesNotAnswerIsDown() {
		Health health = indicator(new FixedOutbox(Duration.ZERO, new DataAccessResourceFailureException("no database")),
				null)
			.health();
		assertThat(health.getStatus()).isEqualTo(Status.DOWN);
		assertThat(health.getDetails().get("outbox")).asString().contains("no database");
	}

	@Test
	void anUnreachableStoreIsDownUnlessTheTwoTierGuardFallsBackToTheLedger() throws Exception {
		StringRedisTemplate unreachable = unreachableRedis();
		ConsumedLedger ledger = new ConsumedLedger(this.database.dataSource(), "rk_consumed");
		TransactionTemplate transactions = new TransactionTemplate(
				new DataSourceTransactionManager(this.database.dataSource()));
		GuardListener none = GuardListener.NONE;
		IdempotencyGuard redisOnly = IdempotencyGuards.redis(unreachable, "rk:", Duration.ofDays(1), Duration.ofMinutes(5),
				3, none);
		IdempotencyGuard twoTier = IdempotencyGuards.twoTier(unreachable, "rk:", ledger, transactions, Duration.ofDays(1),
				Duration.ofMinutes(5), 3, none);
		IdempotencyGuard ledgerOnly = IdempotencyGuards.jdbc(ledger, transactions, 3, none);

		Health redisDown = indicator(null, redisOnly).health();
		System.out.printf("redis guard, Redis down: %s%n", redisDown);
		assertThat(redisDown.getStatus()).isEqualTo(Status.DOWN);

		Health fallback = indicator(null, twoTier).health();
		System.out.printf("two-tier guard, Redis down: %s%n", fallback);
		assertThat(fallback.getStatus()).isEqualTo(Status.UP);
		assertThat(fallback.getDetails().get("idempotency")).asString()
			.contains("ledger=reachable")
			.contains("falls back to the ledger");

		assertThat(indicator(null, ledgerOnly).health().getStatus()).isEqualTo(Status.UP);
	}

	private static ReliableKafkaHealthIndicator indicator(OutboxOperations outbox, IdempotencyGuard guard) {
		return new ReliableKafkaHealthIndicator(outbox, Duration.ofMinutes(5), new Status("LAGGING"), guard, null, 10,
				Status.OUT_OF_SERVICE);
	}

	private StringRedisTemplate unreachableRedis() throws Exception {
		int port;
		try (ServerSocket socket = new ServerSocket(0)) {
			port = socket.getLocalPort(); // closed again: nobody listens there
		}
		this.redis = new LettuceConnectionFactory("localhost", port);
		this.redis.afterPropertiesSet();
		this.redis.start();
		return new StringRedisTemplate(this.redis);
	}

	/** An outbox whose oldest pending row has a fixed age, or whose database fails. */
	private record FixedOutbox(Duration age, RuntimeException failure) implements OutboxOperations {

		@Override
		public List<OutboxMessage> failed(int limit) {
			return List.of();
		}

		@Override
		public int requeue(Collection<Long> ids) {
			return 0;
		}

		@Override
		public int requeueAllFailed() {
			return 0;
		}

		@Override
		public Optional<OutboxMessage> find(String messageId) {
			return Optional.empty();
		}

		@Override
		public long dueCount() {
			return pendingCount();
		}

		@Override
		public long pendingCount() {
			if (this.failure != null) {
				throw this.failure;
			}
			return 3;
		}

		@Override
		public Duration oldestPendingAge() {
			if (this.failure != null) {
				throw this.failure;
			}
			return this.age;
		}

	}

}
