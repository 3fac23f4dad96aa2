package io.github.reliablekafka.autoconfigure.idempotency;

import java.util.List;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.idempotency.ConsumedLedger;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyKeyStrategy;
import io.github.reliablekafka.idempotency.MicrometerGuardListener;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

class ReliableKafkaIdempotencyAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, DataSourceAutoConfiguration.class,
				DataSourceTransactionManagerAutoConfiguration.class, DataRedisAutoConfiguration.class,
				ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
				ReliableKafkaConsumerAutoConfiguration.class))
		.withPropertyValues("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(),
				"spring.datasource.generate-unique-name=true", "reliable.kafka.outbox.enabled=false");

	private static String store(org.springframework.context.ApplicationContext context) {
		ReliableIdempotency idempotency = context.getBean(ReliableIdempotency.class);
		return (idempotency.guard() != null) ? idempotency.guard().store() : "none";
	}

	@Test
	void autoIsTwoTierWithRedisAndADataSource() {
		this.contextRunner.run((context) -> {
			assertThat(store(context)).isEqualTo("two-tier");
			assertThat(context).hasSingleBean(ConsumedLedger.class).hasBean("reliableKafkaLedgerCleaner");
			assertThat(new JdbcTemplate(context.getBean(javax.sql.DataSource.class))
				.queryForObject("SELECT COUNT(*) FROM rk_consumed", Long.class)).as("created for an embedded database")
				.isZero();
		});
	}

	@Test
	void theTwoTierGuardsRedisWriterStopsWithTheContext() throws Exception {
		java.util.concurrent.atomic.AtomicReference<Thread> writer = new java.util.concurrent.atomic.AtomicReference<>();
		this.contextRunner.run((context) -> {
			IdempotencyGuard guard = context.getBean(ReliableIdempotency.class).guard();
			assertThat(guard.execute("g-" + System.nanoTime(), "k-" + System.nanoTime(), () -> {
			})).isNotNull();
			long deadline = System.currentTimeMillis() + 5_000;
			while (writer.get() == null && System.currentTimeMillis() < deadline) {
				Thread.getAllStackTraces().keySet().stream()
					.filter((thread) -> thread.getName().startsWith("rk-idempotency-done-"))
					.forEach(writer::set);
				Thread.sleep(10);
			}
			assertThat(writer.get()).as("the DONE write ran on the guard's writer thread").isNotNull();
		});
		writer.get().join(10_000);
		assertThat(writer.get().isAlive()).as("the writer thread ended when the context closed").isFalse();
	}

	/**
	 * The thread table's promise: the {@code DONE} writes still waiting when the context closes reach Redis (they get
	 * 5 s). Thousands of guarded records end just before the close, so that writes are still queued.
	 */
	@Test
	void theDoneWritesWaitingWhenTheContextClosesReachRedis() throws Exception {
		String group = "drain-" + System.nanoTime();
		int records = 4_000;
		this.contextRunner.run((context) -> {
			IdempotencyGuard guard = context.getBean(ReliableIdempotency.class).guard();
			// eight listener threads against the one writer thread: the writes queue up
			java.util.concurrent.ExecutorService listeners = java.util.concurrent.Executors.newFixedThreadPool(8);
			java.util.List<java.util.concurrent.Future<?>> work = new java.util.ArrayList<>();
			for (int i = 0; i < records; i++) {
				String key = "k" + i;
				work.add(listeners.submit(() -> guard.execute(group, key, () -> {
				})));
			}
			for (java.util.concurrent.Future<?> each : work) {
				each.get();
			}
			listeners.shutdown();
		});
		org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory factory =
				new org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory("localhost", 6379);
		factory.afterPropertiesSet();
		factory.start();
		try {
			org.springframework.data.redis.core.StringRedisTemplate redis =
					new org.springframework.data.redis.core.StringRedisTemplate(factory);
			java.util.List<String> keys = java.util.stream.IntStream.range(0, records)
				.mapToObj((i) -> "rk:idem:" + group + ":k" + i)
				.toList();
			java.util.List<String> states = redis.opsForValue().multiGet(keys);
			long done = states.stream().filter("DONE"::equals).count();
			System.out.printf("DONE writes after the close: %d of %d records in Redis, %d missing%n", done, records,
					records - done);
			assertThat(done).as("DONE states in Redis after the context closed").isEqualTo(records);
			redis.delete(keys);
		}
		finally {
			factory.destroy();
		}
	}

	@Test
	void autoIsTheLedgerWithoutRedis() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(RedisConnectionFactory.class))
			.run((context) -> assertThat(store(context)).isEqualTo("jdbc"));
	}

	@Test
	void autoIsRedisWithoutADataSource() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(JdbcTemplate.class))
			.run((context) -> {
				assertThat(store(context)).isEqualTo("redis");
				assertThat(context).doesNotHaveBean(ConsumedLedger.class);
			});
	}

	@Test
	void autoIsNoGuardWithNeither() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(JdbcTemplate.class, RedisConnectionFactory.class))
			.run((context) -> assertThat(store(context)).isEqualTo("none"));
	}

	@Test
	void aStoreCanBeChosenOrSwitchedOff() {
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.store=jdbc")
			.run((context) -> assertThat(store(context)).isEqualTo("jdbc"));
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.store=redis")
			.run((context) -> {
				assertThat(store(context)).isEqualTo("redis");
				assertThat(context).doesNotHaveBean(ConsumedLedger.class);
			});
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.store=none")
			.run((context) -> {
				assertThat(store(context)).isEqualTo("none");
				assertThat(context).doesNotHaveBean(ConsumedLedger.class);
			});
	}

	@Test
	void aStoreWithoutItsBackingIsAClearStartupError() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(RedisConnectionFactory.class))
			.withPropertyValues("reliable.kafka.consumer.idempotency.store=two-tier")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("reliable.kafka.consumer.idempotency.store=two-tier needs Redis"));
		this.contextRunner.withClassLoader(new FilteredClassLoader(JdbcTemplate.class))
			.withPropertyValues("reliable.kafka.consumer.idempotency.store=jdbc")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("needs a database"));
	}

	/**
	 * The Redis guards' scripts name a record's state and claim count, keys of different hash slots, which a Redis
	 * Cluster refuses (CROSSSLOT) on every record: a store that needs Redis stops the application at startup, and
	 * {@code auto} leaves the cluster alone. Boot's factory for the cluster is only configured, never connected.
	 */
	@Test
	void aRedisClusterIsRefusedByTheRedisStoresAndLeftOutByAuto() {
		String cluster = "spring.data.redis.cluster.nodes=127.0.0.1:7101,127.0.0.1:7102";
		for (String store : List.of("redis", "two-tier")) {
			this.contextRunner.withPropertyValues(cluster, "reliable.kafka.consumer.idempotency.store=" + store)
				.run((context) -> assertThat(context).hasFailed()
					.getFailure()
					.rootCause()
					.isInstanceOf(ReliableKafkaConfigurationException.class)
					.hasMessageContaining("reliable.kafka.consumer.idempotency.store=" + store
							+ " cannot use the application's Redis: it is a Redis Cluster"));
		}
		this.contextRunner.withPropertyValues(cluster).run((context) -> {
			assertThat(store(context)).isEqualTo("jdbc");
			assertThat(context).hasSingleBean(ConsumedLedger.class);
		});
		this.contextRunner.withClassLoader(new FilteredClassLoader(JdbcTemplate.class))
			.withPropertyValues(cluster)
			.run((context) -> assertThat(store(context)).isEqualTo("none"));
		this.contextRunner.withPropertyValues("spring.data.redis.sentinel.master=mymaster",
				"spring.data.redis.sentinel.nodes=127.0.0.1:26379")
			.run((context) -> assertThat(store(context)).as("Sentinel is not a cluster").isEqualTo("two-tier"));
	}

	@Test
	void invalidSettingsAreClearStartupErrors() {
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.ttl=0s")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("reliable.kafka.consumer.idempotency.ttl must be positive"));
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.max-claims=0")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("max-claims must be at least 1"));
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.store=mongo")
			.run((context) -> assertThat(context).hasFailed());
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.table=rk_consumed; DROP TABLE x")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("reliable.kafka.consumer.idempotency.table='rk_consumed; DROP TABLE x' is not a table name"));
	}

	@Test
	void keysAreMessageIdsUnlessConfigured() {
		this.contextRunner.run((context) -> assertThat(context.getBean(ReliableIdempotency.class).keyStrategy())
			.isEqualTo(IdempotencyKeyStrategy.MESSAGE_ID));
		this.contextRunner.withPropertyValues("reliable.kafka.consumer.idempotency.key=payload-hash")
			.run((context) -> assertThat(context.getBean(ReliableIdempotency.class).keyStrategy())
				.isEqualTo(IdempotencyKeyStrategy.PAYLOAD_HASH));
	}

	@Test
	void checksAreCountedWhenThereIsAMeterRegistry() {
		this.contextRunner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.run((context) -> assertThat(context).hasSingleBean(MicrometerGuardListener.class));
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(MicrometerGuardListener.class));
	}

	@Test
	void theLedgerAndItsDeadLetterTableAreCreatedByDefaultOrRefusedWhenTheyAreNotToBe() {
		try (TestDatabase database = TestDatabase.postgres()) {
			assertRefusedWithoutSchemaInitialization(database, "idempotency ledger table 'rk_consumed' does not exist",
					"classpath:io/github/reliablekafka/idempotency/schema-postgresql.sql",
					"reliable.kafka.consumer.idempotency.store=redis");
			this.contextRunner.withPropertyValues("spring.datasource.url=" + database.url())
				.run((context) -> assertThat(new JdbcTemplate(database.dataSource()).queryForObject(
						"SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN ('rk_consumed', "
								+ "'rk_consumed_dead_letter') AND table_schema = current_schema()", Integer.class))
					.isEqualTo(2));
			// a ledger made before the dead-letter table existed, with the schema the application's own: refused,
			// naming the table and its script
			new JdbcTemplate(database.dataSource()).execute("DROP TABLE rk_consumed_dead_letter");
			assertRefusedWithoutSchemaInitialization(database,
					"dead-letter table 'rk_consumed_dead_letter' does not exist",
					"classpath:io/github/reliablekafka/idempotency/schema-dead-letter-postgresql.sql");
			// with the default, the missing table is created next to the existing ledger
			this.contextRunner.withPropertyValues("spring.datasource.url=" + database.url())
				.run((context) -> assertThat(context).hasNotFailed());
			assertThat(new JdbcTemplate(database.dataSource()).queryForObject("SELECT COUNT(*) FROM "
					+ "rk_consumed_dead_letter", Integer.class)).isZero();
		}
	}

	/** With initialize-schema=never the application does not start, and the failure says each of {@code expected}. */
	private void assertRefusedWithoutSchemaInitialization(TestDatabase database, String... expected) {
		this.contextRunner
			.withPropertyValues("spring.datasource.url=" + database.url(),
					"reliable.kafka.consumer.idempotency.initialize-schema=never")
			.run((context) -> {
				assertThat(context).hasFailed();
				for (String each : expected) {
					assertThat(context.getStartupFailure()).rootCause().hasMessageContaining(each);
				}
			});
	}

}
