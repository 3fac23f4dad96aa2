package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.reliablekafka.idempotency.IdempotencyGuard.KeyState;
import io.github.reliablekafka.idempotency.IdempotencyGuard.Outcome;
import io.github.reliablekafka.internal.TableSchemaInitializer;
import io.github.reliablekafka.support.SchemaInitialization;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TestRedis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * The guards' defined behaviour at their edges, on the local PostgreSQL and Redis: when Redis is told {@code DONE},
 * what a crash leaves behind, what happens when a store is unreachable, and the ledger's retention. Over 400 lines:
 * one test per defined edge, all on the same fixtures (database, ledger, Redis); split by guard, the classes would
 * repeat them.
 */
class IdempotencyGuardTests {

	private static final Duration TTL = Duration.ofHours(1);

	private TestDatabase database;

	private TestRedis redis;

	private StringRedisTemplate template;

	private ConsumedLedger ledger;

	private TransactionTemplate transactions;

	private JdbcTemplate jdbc;

	private final List<String> checks = new CopyOnWriteArrayList<>();

	private final GuardListener listener = (store, result) -> this.checks.add(store + ":" + result);

	@BeforeEach
	void prepare() throws Exception {
		this.database = TestDatabase.postgres();
		new TableSchemaInitializer(this.database.dataSource(), ConsumedLedger.libraryTable("rk_consumed"),
				SchemaInitialization.ALWAYS).afterPropertiesSet();
		new TableSchemaInitializer(this.database.dataSource(), ConsumedLedger.deadLetterTable("rk_consumed"),
				SchemaInitialization.ALWAYS).afterPropertiesSet();
		this.ledger = new ConsumedLedger(this.database.dataSource(), "rk_consumed");
		this.transactions = new TransactionTemplate(new DataSourceTransactionManager(this.database.dataSource()));
		this.jdbc = new JdbcTemplate(this.database.dataSource());
		this.jdbc.execute("CREATE TABLE effects (k VARCHAR(64))");
		this.redis = TestRedis.shared();
		this.template = new StringRedisTemplate(this.redis.connectionFactory());
	}

	@AfterEach
	void cleanUp() {
		this.template.delete(this.template.keys(this.redis.keyPrefix() + "*"));
		this.redis.close();
		this.database.close();
	}

	private IdempotencyGuard twoTier() {
		return IdempotencyGuards.twoTier(this.template, this.redis.keyPrefix(), this.ledger, this.transactions, TTL,
				Duration.ofMinutes(5), 3, this.listener);
	}

	private String state(String group, String key) {
		return this.template.opsForValue().get(new RedisKeys(this.redis.keyPrefix()).state(group, key));
	}

	@Test
	void twoTierTellsRedisDoneOnlyAfterTheDatabaseCommit() throws Exception {
		IdempotencyGuard guard = twoTier();
		List<String> stateDuringWork = new CopyOnWriteArrayList<>();
		Outcome outcome = guard.execute("g", "k1", () -> {
			this.jdbc.update("INSERT INTO effects VALUES ('k1')");
			stateDuringWork.add(String.valueOf(state("g", "k1")));
		});
		assertThat(outcome).isEqualTo(Outcome.PROCESSED);
		assertThat(stateDuringWork).containsExactly("null");
		await().atMost(Duration.ofSeconds(5)).until(() -> "DONE".equals(state("g", "k1"))); // written after the commit
		assertThat(this.ledger.isDone("g", "k1")).isTrue();
	}

	/**
	 * A lane worker interrupted as its application stops (past the drain time-out) still writes the {@code DONE} of
	 * the record it ran, without reporting it as possibly not written, and keeps its interrupt. (Without clearing the
	 * interrupt for the write, Lettuce stopped waiting for the reply: "Redis command interrupted", logged as a
	 * {@code DONE} that may not have been written.)
	 */
	@Test
	void aDeferredDoneIsWrittenByAnInterruptedThreadThatKeepsItsInterrupt() throws Exception {
		IdempotencyGuard guard = IdempotencyGuards.redis(this.template, this.redis.keyPrefix(), TTL,
				Duration.ofMinutes(5), 3, this.listener);
		assertThat(guard.executeDeferring("g", "k-interrupted", false, () -> {
		})).isEqualTo(Outcome.PROCESSED);
		String before = state("g", "k-interrupted");
		Logger log = (Logger) LoggerFactory.getLogger(IdempotencyGuard.class);
		ListAppender<ILoggingEvent> errors = new ListAppender<>();
		errors.start();
		log.addAppender(errors);
		boolean stillInterrupted;
		try {
			Thread.currentThread().interrupt();
			guard.flushDeferred();
			stillInterrupted = Thread.interrupted(); // and clear it for the rest of the test
		}
		finally {
			log.detachAppender(errors);
		}
		List<String> notMarked = errors.list.stream()
			.filter((event) -> event.getLevel() == Level.ERROR)
			.map(ILoggingEvent::getFormattedMessage)
			.toList();
		System.out.printf("deferred DONE flushed by an interrupted thread: before the flush %s, after it %s; interrupt "
				+ "kept: %s; errors logged: %s%n", before, state("g", "k-interrupted"), stillInterrupted, notMarked);
		assertThat(before).startsWith("PROCESSING");
		assertThat(notMarked).as("a DONE reported as possibly not written").isEmpty();
		assertThat(state("g", "k-interrupted")).isEqualTo("DONE");
		assertThat(stillInterrupted).isTrue();
	}

	@Test
	void aRollbackLeavesNoDoneAnywhereAndTheRetryRuns() throws Exception {
		IdempotencyGuard guard = twoTier();
		assertThatIllegalStateException().isThrownBy(() -> guard.execute("g", "k2", () -> {
			this.jdbc.update("INSERT INTO effects VALUES ('k2')");
			throw new IllegalStateException("the handler fails after its effect");
		}));
		assertThat(state("g", "k2")).isNull();
		assertThat(this.ledger.isDone("g", "k2")).isFalse();
		assertThat(this.jdbc.queryForObject("SELECT COUNT(*) FROM effects", Integer.class)).isZero();
		AtomicInteger runs = new AtomicInteger();
		assertThat(guard.execute("g", "k2", () -> {
			runs.incrementAndGet();
			this.jdbc.update("INSERT INTO effects VALUES ('k2')");
		})).isEqualTo(Outcome.PROCESSED);
		assertThat(runs).hasValue(1);
		assertThat(this.jdbc.queryForObject("SELECT COUNT(*) FROM effects", Integer.class)).isOne();
	}

	@Test
	void whenRedisForgotAKeyTheLedgerStillSaysDuplicate() throws Exception {
		IdempotencyGuard guard = twoTier();
		guard.execute("g", "k3", () -> this.jdbc.update("INSERT INTO effects VALUES ('k3')"));
		await().atMost(Duration.ofSeconds(5)).until(() -> "DONE".equals(state("g", "k3")));
		this.template.delete(new RedisKeys(this.redis.keyPrefix()).state("g", "k3")); // expired, evicted or lost
		AtomicInteger runs = new AtomicInteger();
		assertThat(guard.execute("g", "k3", runs::incrementAndGet)).isEqualTo(Outcome.DUPLICATE);
		assertThat(runs).hasValue(0);
		await("Redis learns it again").atMost(Duration.ofSeconds(5)).until(() -> "DONE".equals(state("g", "k3")));
		// and a key Redis knows is skipped without touching the database
		this.jdbc.update("DELETE FROM rk_consumed");
		assertThat(guard.execute("g", "k3", runs::incrementAndGet)).isEqualTo(Outcome.DUPLICATE);
		assertThat(runs).hasValue(0);
		assertThat(this.checks).containsExactly("two-tier:new", "two-tier:duplicate", "two-tier:duplicate");
	}

	@Test
	void aDoneKeyNeverMovesBackToProcessing() throws Exception {
		IdempotencyGuard guard = IdempotencyGuards.jdbc(this.ledger, this.transactions, 3, this.listener);
		guard.execute("g", "k4", () -> this.jdbc.update("INSERT INTO effects VALUES ('k4')"));
		assertThat(this.ledger.claim("g", "k4")).as("a claim of a done key").isEqualTo(-1);
		this.ledger.unclaim("g", "k4");
		assertThat(this.ledger.markDone("g", "k4", true)).as("marking it done again").isFalse();
		assertThat(this.jdbc.queryForObject("SELECT status FROM rk_consumed WHERE idem_key = 'k4'", String.class))
			.isEqualTo("DONE");
	}

	@Test
	void aClaimLeftByACrashedConsumerHoldsTheKeyUntilItsLeaseExpiresThenTheRecordRunsOnce() throws Exception {
		IdempotencyGuard guard = IdempotencyGuards.redis(this.template, this.redis.keyPrefix(), TTL,
				Duration.ofMillis(1_500), 3, this.listener);
		RedisKeys keys = new RedisKeys(this.redis.keyPrefix());
		// what a consumer killed between its claim and its DONE leaves behind
		this.template.opsForValue().set(keys.state("g", "k5"), "PROCESSING:dead-consumer", Duration.ofMillis(1_500));
		this.template.opsForValue().set(keys.claims("g", "k5"), "1");
		AtomicInteger runs = new AtomicInteger();
		long start = System.nanoTime();
		assertThatExceptionOfType(GuardUnavailableException.class)
			.isThrownBy(() -> guard.execute("g", "k5", runs::incrementAndGet));
		Outcome outcome = null;
		while (outcome == null) {
			try {
				outcome = guard.execute("g", "k5", runs::incrementAndGet);
			}
			catch (GuardUnavailableException ex) {
				Thread.sleep(50);
			}
		}
		long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
		assertThat(outcome).isEqualTo(Outcome.PROCESSED);
		assertThat(runs).hasValue(1);
		assertThat(waited).isBetween(1_000L, 5_000L);
		assertThat(guard.execute("g", "k5", runs::incrementAndGet)).isEqualTo(Outcome.DUPLICATE);
		assertThat(runs).hasValue(1);
	}

	@Test
	void aLedgerClaimLeftByACrashedConsumerIsCountedAndTheRecordRunsOnce() throws Exception {
		IdempotencyGuard guard = IdempotencyGuards.jdbc(this.ledger, this.transactions, 3, this.listener);
		assertThat(this.ledger.claim("g", "k6")).isOne(); // committed before a crash
		AtomicInteger runs = new AtomicInteger();
		assertThat(guard.execute("g", "k6", runs::incrementAndGet)).isEqualTo(Outcome.PROCESSED);
		assertThat(runs).hasValue(1);
		// three crashes with the claim counted, then the record is past max-claims: first suspected (the record
		// waits: another delivery of it may still be running), then, still over the limit, dead-lettered; never run
		assertThat(this.ledger.claim("g", "k7")).isOne();
		assertThat(this.ledger.claim("g", "k7")).isEqualTo(2);
		assertThat(this.ledger.claim("g", "k7")).isEqualTo(3);
		assertThatExceptionOfType(GuardUnavailableException.class)
			.isThrownBy(() -> guard.execute("g", "k7", runs::incrementAndGet))
			.withMessageContaining("checked again before it counts as a crash loop");
		Thread.sleep(CrashLoopSuspects.CONFIRM_AFTER_MILLIS + 50);
		assertThatExceptionOfType(CrashLoopException.class)
			.isThrownBy(() -> guard.execute("g", "k7", runs::incrementAndGet))
			.withMessageContaining("claimed 4 times");
		assertThat(runs).hasValue(1);
	}

	@Test
	void aRecordInFlowIsNotClaimedAndTheLedgerStillDecides() throws Exception {
		RedisKeys keys = new RedisKeys(this.redis.keyPrefix());
		for (String store : List.of("jdbc", "two-tier")) {
			IdempotencyGuard guard = "jdbc".equals(store)
					? IdempotencyGuards.jdbc(this.ledger, this.transactions, 3, this.listener) : twoTier();
			String key = store + "-flow";
			AtomicInteger runs = new AtomicInteger();
			IdempotencyGuard.Work work = () -> {
				runs.incrementAndGet();
				this.jdbc.update("INSERT INTO effects VALUES (?)", key);
			};
			assertThat(guard.executeInFlow("g", key, work)).isEqualTo(Outcome.PROCESSED);
			assertThat(this.ledger.isDone("g", key)).isTrue();
			assertThat(this.jdbc.queryForObject("SELECT claims FROM rk_consumed WHERE idem_key = ?", Integer.class, key))
				.as("no claim counted in the ledger").isZero();
			assertThat(this.template.hasKey(keys.claims("g", key))).as("no claim counted in Redis").isFalse();
			// a copy, in flow or not, is a duplicate: the ledger decides
			assertThat(guard.executeInFlow("g", key, work)).isEqualTo(Outcome.DUPLICATE);
			assertThat(guard.execute("g", key, work)).isEqualTo(Outcome.DUPLICATE);
			// a failure leaves nothing behind, and the retry runs
			String failing = store + "-flow-fails";
			assertThatIllegalStateException().isThrownBy(() -> guard.executeInFlow("g", failing, () -> {
				this.jdbc.update("INSERT INTO effects VALUES (?)", failing);
				throw new IllegalStateException("fails after its effect");
			}));
			assertThat(this.ledger.isDone("g", failing)).isFalse();
			assertThat(guard.execute("g", failing, () -> this.jdbc.update("INSERT INTO effects VALUES (?)", failing)))
				.isEqualTo(Outcome.PROCESSED);
			assertThat(this.jdbc.queryForObject("SELECT COUNT(*) FROM effects WHERE k IN (?, ?)", Integer.class, key,
					failing)).isEqualTo(2);
			assertThat(runs).hasValue(1);
		}
		// the ledger alone: a row a crashed claim left as PROCESSING is done by a record in flow with its key
		IdempotencyGuard jdbcGuard = IdempotencyGuards.jdbc(this.ledger, this.transactions, 3, this.listener);
		assertThat(this.ledger.claim("g", "crashed-claim")).isOne();
		assertThat(jdbcGuard.executeInFlow("g", "crashed-claim", () -> { })).isEqualTo(Outcome.PROCESSED);
		assertThat(this.ledger.isDone("g", "crashed-claim")).isTrue();
		assertThat(jdbcGuard.executeInFlow("g", "crashed-claim", () -> { })).isEqualTo(Outcome.DUPLICATE);
	}

	@Test
	void eachStoreTellsOperatorsWhatItHoldsForAKey() throws Exception {
		Map<String, IdempotencyGuard> guards = new java.util.LinkedHashMap<>();
		guards.put("redis", IdempotencyGuards.redis(this.template, this.redis.keyPrefix(), TTL, Duration.ofMinutes(5),
				3, this.listener));
		guards.put("jdbc", IdempotencyGuards.jdbc(this.ledger, this.transactions, 3, this.listener));
		guards.put("two-tier", twoTier());
		List<String> told = new ArrayList<>();
		for (Map.Entry<String, IdempotencyGuard> each : guards.entrySet()) {
			IdempotencyGuard guard = each.getValue();
			String key = "id:" + each.getKey() + "-state";
			KeyState before = guard.state("g", key);
			KeyState[] during = new KeyState[1];
			// asked as an operator would: from another thread, outside the work's transaction
			guard.execute("g", key, () -> during[0] = java.util.concurrent.CompletableFuture
				.supplyAsync(() -> guard.state("g", key))
				.get(10, TimeUnit.SECONDS));
			KeyState after = guard.state("g", key);
			KeyState otherGroup = guard.state("other", key);
			told.add(each.getKey() + ": " + before + " -> " + during[0] + " -> " + after + ", other group " + otherGroup);
			assertThat(List.of(before, during[0], after, otherGroup)).as(each.getKey())
				.containsExactly(KeyState.ABSENT, KeyState.PROCESSING, KeyState.DONE, KeyState.ABSENT);
		}
		System.out.println("key states (before -> during the work -> after): " + told);
	}

	@Test
	void eachStoreKeepsDeadLettersForLookUp() {
		Map<String, IdempotencyGuard> guards = new java.util.LinkedHashMap<>();
		guards.put("redis", IdempotencyGuards.redis(this.template, this.redis.keyPrefix(), TTL, Duration.ofMinutes(5),
				3, this.listener));
		guards.put("jdbc", IdempotencyGuards.jdbc(this.ledger, this.transactions, 3, this.listener));
		guards.put("two-tier", twoTier());
		for (Map.Entry<String, IdempotencyGuard> each : guards.entrySet()) {
			IdempotencyGuard guard = each.getValue();
			String id = java.util.UUID.randomUUID().toString();
			java.time.Instant at = java.time.Instant.ofEpochMilli(System.currentTimeMillis());
			// a group name with the characters a store might split on, and a reason far over its bound
			DeadLetterRecord first = new DeadLetterRecord(id, "billing:eu%1", "orders-3@17", "orders.DLT-0@4",
					"java.lang.IllegalStateException: " + "x".repeat(10_000), at);
			DeadLetterRecord second = new DeadLetterRecord(id, "audit", "orders-3@17", "orders.DLT-1@9", null,
					at.plusMillis(5));
			guard.deadLettered(first);
			guard.deadLettered(first); // recorded twice: kept once
			guard.deadLettered(second);
			List<DeadLetterRecord> kept = guard.deadLetters(id);
			System.out.printf("%s keeps %d dead letter(s) of %s: %s%n", each.getKey(), kept.size(), id,
					kept.stream().map((record) -> record.group() + " " + record.source() + " -> " + record.deadLetter())
						.toList());
			assertThat(kept).as(each.getKey()).containsExactly(first, second);
			assertThat(kept.get(0).reason()).hasSize(DeadLetterRecord.MAX_REASON).endsWith("...");
			assertThat(guard.deadLetters(java.util.UUID.randomUUID().toString())).as(each.getKey()).isEmpty();
		}
	}

	@Test
	void deliveriesOfOneKeyRunningAtOnceAreNotACrashLoop() throws Exception {
		// six deliveries of a key at once, more than max-claims=3: each claim is counted before the key's row is
		// owned, so the owner may see a count of up to 6 with no crash at all; it must not dead-letter the record
		for (String store : List.of("jdbc", "two-tier")) {
			IdempotencyGuard guard = "jdbc".equals(store)
					? IdempotencyGuards.jdbc(this.ledger, this.transactions, 3, this.listener) : twoTier();
			int keys = 12;
			AtomicInteger processed = new AtomicInteger();
			AtomicInteger duplicates = new AtomicInteger();
			AtomicInteger crashLoops = new AtomicInteger();
			AtomicInteger waits = new AtomicInteger();
			ExecutorService threads = Executors.newFixedThreadPool(6);
			try {
				for (int k = 0; k < keys; k++) {
					String key = store + "-race-" + k;
					CyclicBarrier together = new CyclicBarrier(6);
					List<Future<?>> deliveries = new ArrayList<>();
					for (int t = 0; t < 6; t++) {
						deliveries.add(threads.submit(() -> {
							together.await();
							while (true) {
								try {
									Outcome outcome = guard.execute("race", key, () -> {
										this.jdbc.update("INSERT INTO effects VALUES (?)", key);
										Thread.sleep(30);
									});
									(outcome == Outcome.PROCESSED ? processed : duplicates).incrementAndGet();
									return null;
								}
								catch (GuardUnavailableException ex) { // waits and tries again, as a listener does
									waits.incrementAndGet();
									Thread.sleep(100);
								}
								catch (CrashLoopException ex) {
									crashLoops.incrementAndGet();
									return null;
								}
							}
						}));
					}
					for (Future<?> delivery : deliveries) {
						delivery.get(60, TimeUnit.SECONDS);
					}
				}
			}
			finally {
				threads.shutdownNow();
			}
			Integer effects = this.jdbc.queryForObject("SELECT COUNT(*) FROM effects WHERE k LIKE ?", Integer.class,
					store + "-race-%");
			System.out.printf("[%s] %d keys x 6 deliveries at once (max-claims=3): processed=%d duplicates=%d "
					+ "crash loops=%d waits=%d effects=%d%n", store, keys, processed.get(), duplicates.get(),
					crashLoops.get(), waits.get(), effects);
			assertThat(crashLoops).hasValue(0);
			assertThat(processed).hasValue(keys);
			assertThat(duplicates).hasValue(keys * 5);
			assertThat(effects).isEqualTo(keys);
		}
	}

	@Test
	void anUnreachableDatabaseMakesTheGuardUnavailableNotTheRecordDone() {
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/test");
		config.setConnectionTimeout(500);
		config.setInitializationFailTimeout(-1);
		try (HikariDataSource unreachable = new HikariDataSource(config)) {
			IdempotencyGuard guard = IdempotencyGuards.jdbc(new ConsumedLedger(unreachable, "rk_consumed"),
					new TransactionTemplate(new DataSourceTransactionManager(unreachable)), 3, this.listener);
			AtomicInteger runs = new AtomicInteger();
			assertThatExceptionOfType(GuardUnavailableException.class)
				.isThrownBy(() -> guard.execute("g", "k8", runs::incrementAndGet))
				.withMessageContaining("k8");
			assertThat(runs).hasValue(0);
		}
	}

	@Test
	void anUnreachableRedisMakesTheRedisGuardUnavailableAndTheTwoTierGuardFallBack() throws Exception {
		LettuceConnectionFactory down = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", 1),
				LettuceClientConfiguration.builder().commandTimeout(Duration.ofMillis(300)).build());
		down.afterPropertiesSet();
		try {
			StringRedisTemplate unreachable = new StringRedisTemplate(down);
			AtomicInteger runs = new AtomicInteger();
			IdempotencyGuard redisOnly = IdempotencyGuards.redis(unreachable, "rk:", TTL, Duration.ofMinutes(5), 3,
					this.listener);
			assertThatExceptionOfType(GuardUnavailableException.class)
				.isThrownBy(() -> redisOnly.execute("g", "k9", runs::incrementAndGet));
			assertThat(runs).hasValue(0);
			IdempotencyGuard twoTier = IdempotencyGuards.twoTier(unreachable, "rk:", this.ledger, this.transactions,
					TTL, Duration.ofMinutes(5), 3, this.listener);
			long start = System.nanoTime();
			for (int i = 0; i < 50; i++) {
				twoTier.execute("g", "k9", runs::incrementAndGet);
			}
			long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
			assertThat(runs).hasValue(1);
			assertThat(this.checks.stream().filter("two-tier:fallback"::equals).count()).isEqualTo(50);
			assertThat(millis).as("Redis is not asked (and waited for) on every record of an outage")
				.isLessThan(5_000);
		}
		finally {
			down.destroy();
		}
	}

	@Test
	void theCleanerDeletesLedgerRowsAndDeadLettersOlderThanTheTtl() throws Exception {
		this.ledger.markDone("g", "old-1", false);
		this.ledger.markDone("g", "old-2", false);
		this.ledger.markDone("g", "new-1", false);
		long twoHoursAgo = System.currentTimeMillis() - Duration.ofHours(2).toMillis();
		this.jdbc.update("UPDATE rk_consumed SET updated_at = ? WHERE idem_key LIKE 'old-%'", twoHoursAgo);
		String id = java.util.UUID.randomUUID().toString();
		java.time.Instant now = java.time.Instant.now();
		this.ledger.recordDeadLetter(new DeadLetterRecord(id, "g", "t-0@1", "t.DLT-0@0", null,
				now.minus(Duration.ofHours(2))));
		this.ledger.recordDeadLetter(new DeadLetterRecord(id, "g", "t-0@2", "t.DLT-0@1", null, now));
		LedgerCleaner cleaner = new LedgerCleaner(this.ledger, TTL);
		assertThat(cleaner.clean()).as("2 ledger rows and 1 dead letter").isEqualTo(3);
		assertThat(this.jdbc.queryForList("SELECT idem_key FROM rk_consumed", String.class)).containsExactly("new-1");
		assertThat(this.ledger.deadLetters(id)).extracting(DeadLetterRecord::deadLetter).containsExactly("t.DLT-0@1");
	}

}
