package io.github.reliablekafka.benchmarks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.consumer.ReliableListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A reliable listener whose work is one row inserted in PostgreSQL, in a transaction, run with no guard and with each
 * idempotency guard in turn, on the same kind of topic contents: the guard's cost is the ratio to no guard. Needs the
 * local PostgreSQL ({@code RK_POSTGRES_URL}, default {@code jdbc:postgresql://localhost:5432/test?user=postgres}) and
 * Redis ({@code RK_REDIS_HOST}/{@code RK_REDIS_PORT}, default localhost:6379).
 */
final class IdempotencyBenchmark {

	private static final int RECORDS = 20_000;

	private static final int PARTITIONS = 3;

	private static final int ROUNDS = Integer.getInteger("bench.rounds", 5);

	static volatile Meter meter;

	private IdempotencyBenchmark() {
	}

	static String run(String servers) throws Exception {
		String url = System.getenv().getOrDefault("RK_POSTGRES_URL",
				"jdbc:postgresql://localhost:5432/test?user=postgres");
		String schema = "rk_bench_" + Long.toHexString(System.nanoTime());
		try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
			statement.execute("CREATE SCHEMA " + schema);
		}
		String schemaUrl = url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
		try {
			List<String> stores = List.of(System.getProperty("bench.stores", "none,redis,jdbc,two-tier").split(","));
			Map<String, double[]> rates = new LinkedHashMap<>();
			Map<String, double[]> costs = new LinkedHashMap<>();
			stores.forEach((store) -> {
				rates.put(store, new double[ROUNDS]);
				costs.put(store, new double[ROUNDS]);
			});
			// warm-up: the first context pays for class loading and JIT
			measure(servers, schemaUrl, "none", 5_000);
			for (int round = 0; round < ROUNDS; round++) {
				// each round runs every store, starting with a different one
				for (int i = 0; i < stores.size(); i++) {
					String store = stores.get((i + round) % stores.size());
					double rate = measure(servers, schemaUrl, store, RECORDS);
					rates.get(store)[round] = rate;
					System.out.printf("idempotency benchmark round %d: %s %s records/s%n", round + 1, store,
							Benchmarks.rate(rate));
				}
				for (String store : stores) {
					costs.get(store)[round] = 1 - rates.get(store)[round] / rates.get("none")[round];
				}
			}
			StringBuilder table = new StringBuilder();
			table.append("## Idempotency guards (issue 5)\n\n")
				.append("Records/s of one `@ReliableListener` (3 partitions, `concurrency = 3`) whose work is one row ")
				.append("inserted in PostgreSQL in a transaction, over ").append(String.format("%,d", RECORDS))
				.append(" records with distinct `rk-id`s, with each store of ")
				.append("`reliable.kafka.consumer.idempotency.store`; local PostgreSQL and Redis. ").append(ROUNDS)
				.append(" rounds, each running every store (the first store rotates); a round's cost is ")
				.append("1 - guard / none of that round, and the table gives the medians. ")
				.append("Targets (issue 23): two-tier <= 20%, jdbc <= 30%, redis <= 15%.\n\n")
				.append("| Store | Records/s (median) | Cost (median) | Costs per round |\n| --- | --- | --- | --- |\n");
			for (String store : stores) {
				StringBuilder each = new StringBuilder();
				for (double cost : costs.get(store)) {
					each.append((each.length() > 0) ? ", " : "").append(String.format("%.0f%%", cost * 100));
				}
				table.append(String.format("| %s | %s | %.0f%% | %s |%n", store,
						Benchmarks.rate(Benchmarks.median(rates.get(store))),
						Benchmarks.median(costs.get(store)) * 100, each));
			}
			return table.append('\n').toString();
		}
		finally {
			try (Connection connection = DriverManager.getConnection(url);
					Statement statement = connection.createStatement()) {
				statement.execute("DROP SCHEMA " + schema + " CASCADE");
			}
		}
	}

	static double measure(String servers, String url, String store, int records) throws Exception {
		String topic = Benchmarks.newTopic(servers, "bench-idem-" + store, PARTITIONS);
		Benchmarks.produce(servers, topic, records, 1_000);
		meter = new Meter(records);
		List<String> args = new ArrayList<>(List.of("--spring.kafka.bootstrap-servers=" + servers,
				"--bench.topic=" + topic, "--bench.group=idem-" + topic, "--spring.main.banner-mode=off",
				"--spring.datasource.url=" + url, "--spring.datasource.hikari.maximum-pool-size=10",
				"--spring.data.redis.host=" + System.getenv().getOrDefault("RK_REDIS_HOST", "localhost"),
				"--spring.data.redis.port=" + System.getenv().getOrDefault("RK_REDIS_PORT", "6379"),
				"--spring.data.redis.timeout=2s", "--reliable.kafka.outbox.enabled=false",
				"--reliable.kafka.consumer.idempotency.store=" + store,
				"--reliable.kafka.consumer.idempotency.initialize-schema=always",
				"--reliable.kafka.consumer.idempotency.redis-key-prefix=rk:bench:" + topic + ":"));
		try (ConfigurableApplicationContext context = new SpringApplicationBuilder(GuardApp.class)
			.web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(args.toArray(String[]::new))) {
			double rate = meter.await(Duration.ofMinutes(10));
			forgetRedisKeys(context.getBean(org.springframework.data.redis.core.StringRedisTemplate.class),
					"rk:bench:" + topic + ":*");
			return rate;
		}
	}

	/**
	 * Delete the keys a round left in Redis (their TTL is days): the tests that run on the same Redis scan its whole
	 * key space, and a million leftover keys made them minutes slower.
	 */
	private static void forgetRedisKeys(org.springframework.data.redis.core.StringRedisTemplate redis, String pattern) {
		List<String> batch = new ArrayList<>();
		try (org.springframework.data.redis.core.Cursor<String> keys = redis
			.scan(org.springframework.data.redis.core.ScanOptions.scanOptions().match(pattern).count(1_000).build())) {
			while (keys.hasNext()) {
				batch.add(keys.next());
				if (batch.size() == 1_000) {
					redis.unlink(batch);
					batch.clear();
				}
			}
		}
		if (!batch.isEmpty()) {
			redis.unlink(batch);
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, DataSourceAutoConfiguration.class,
			DataSourceTransactionManagerAutoConfiguration.class, JdbcTemplateAutoConfiguration.class,
			TransactionAutoConfiguration.class,
			DataRedisAutoConfiguration.class, ReliableKafkaProducerAutoConfiguration.class,
			ReliableKafkaIdempotencyAutoConfiguration.class, ReliableKafkaConsumerAutoConfiguration.class })
	static class GuardApp {

		@Bean
		EffectListener effectListener(JdbcTemplate jdbc, TransactionTemplate transactions) {
			jdbc.execute("CREATE TABLE IF NOT EXISTS bench_effects (id VARCHAR(128) NOT NULL, body VARCHAR(512))");
			return new EffectListener(jdbc, transactions);
		}

	}

	static final class EffectListener {

		private final JdbcTemplate jdbc;

		private final TransactionTemplate transactions;

		EffectListener(JdbcTemplate jdbc, TransactionTemplate transactions) {
			this.jdbc = jdbc;
			this.transactions = transactions;
		}

		@ReliableListener(id = "bench-guard", topics = "${bench.topic}", groupId = "${bench.group}", concurrency = "3")
		void on(ConsumerRecord<String, byte[]> record) {
			// the listener's own transaction: with a ledger store it joins the guard's
			this.transactions.executeWithoutResult((status) -> this.jdbc.update(
					"INSERT INTO bench_effects (id, body) VALUES (?, ?)", record.topic() + "@" + record.offset(),
					new String(record.value())));
			meter.hit();
		}

	}

}
