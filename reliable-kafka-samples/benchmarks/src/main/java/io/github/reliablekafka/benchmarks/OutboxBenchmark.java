package io.github.reliablekafka.benchmarks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

import io.github.reliablekafka.autoconfigure.outbox.ReliableKafkaOutboxAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.outbox.TransactionalOutbox;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Business transactions per second on PostgreSQL with the outbox (the send recorded in the transaction, published
 * after the commit) versus the same transaction followed by a plain {@code KafkaTemplate.send} (the unsafe dual
 * write), and the relay's throughput on a backlog, in one run.
 */
final class OutboxBenchmark {

	private static final int THREADS = 4;

	private static final int TRANSACTIONS = 8_000;

	private static final int BACKLOG = 50_000;

	private static final int ROUNDS = 7;

	private static final int WARM_UP = 8_000;

	private OutboxBenchmark() {
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
			Round[] duals = new Round[ROUNDS];
			Round[] outboxes = new Round[ROUNDS];
			compare(servers, schemaUrl, duals, outboxes);
			double dual = median(duals, Round::rate);
			double outbox = median(outboxes, Round::rate);
			// each outbox round against the dual write round just before it: the machine's drift cancels out
			double[] paired = new double[ROUNDS];
			for (int round = 0; round < ROUNDS; round++) {
				paired[round] = outboxes[round].rate() / duals[round].rate();
			}
			double ratio = Benchmarks.median(paired);
			Backlog backlog = relay(servers, schemaUrl);
			double relay = backlog.rate();
			System.out.printf("outbox benchmark: dual write %s tx/s, outbox %s tx/s, ratio %s, relay %s rows/s (CPU "
					+ "us/row: %s)%n", Benchmarks.rate(dual), Benchmarks.rate(outbox), Benchmarks.ratio(ratio),
					Benchmarks.rate(relay),
					CpuUse.describe(backlog.cpuMicros()));
			return "## Transactional outbox (issue 3)\n\n"
					+ "Business transactions per second (median of " + ROUNDS + " alternating rounds after a warm-up of "
					+ String.format("%,d", WARM_UP) + " transactions each, both applications started once and kept "
					+ "running for every round; the rounds: dual write " + rates(duals)
					+ ", outbox " + rates(outboxes) + "), " + THREADS
					+ " threads, " + String.format("%,d", TRANSACTIONS)
					+ " transactions each inserting one order row in PostgreSQL and sending one ~100-byte message: "
					+ "with the outbox (the message recorded in the transaction and published after the commit, "
					+ "`publish-mode=immediate`), and the same transaction followed by a plain `KafkaTemplate.send` "
					+ "after the commit (the unsafe dual write; acks=all both). Commit to acknowledgement: from the "
					+ "commit's return to the completion of the send's future, 99th percentile (median of the rounds). "
					+ "Outbox / dual write: the median of each outbox round's rate over the rate of the dual write round "
					+ "just before it (" + ratios(paired) + "), so that the machine's drift from round to round "
					+ "cancels out. "
					+ "Relay: a backlog of " + String.format("%,d", BACKLOG) + " committed rows (`publish-mode=relay`, "
					+ "relay stopped while they are written) published by one instance's relay to the broker. "
					+ "Targets: ratio >= 0.8; relay >= 10,000 rows/s; p99 commit to acknowledgement < 1 s.\n\n"
					+ "| Dual write (tx/s) | Outbox (tx/s) | Outbox / dual write | p99 commit to ack, dual write | "
					+ "p99 commit to ack, outbox | Relay (rows/s) |\n"
					+ "| --- | --- | --- | --- | --- | --- |\n"
					+ String.format("| %s | %s | %s | %.0f ms | %.0f ms | %s |%n%n", Benchmarks.rate(dual),
							Benchmarks.rate(outbox), Benchmarks.ratio(ratio), median(duals, Round::p99Millis),
							median(outboxes, Round::p99Millis), Benchmarks.rate(relay))
					+ "CPU time per transaction in the median round, microseconds (PostgreSQL's processes; this JVM's "
					+ "threads: the application's, the producers' network threads, the relay's, and the in-JVM broker "
					+ "with everything else): dual write " + CpuUse.describe(medianRound(duals).cpuMicros())
					+ "; outbox " + CpuUse.describe(medianRound(outboxes).cpuMicros()) + ". CPU time per row while the "
					+ "relay published the backlog: " + CpuUse.describe(backlog.cpuMicros()) + ".\n\n";
		}
		finally {
			try (Connection connection = DriverManager.getConnection(url);
					Statement statement = connection.createStatement()) {
				statement.execute("DROP SCHEMA " + schema + " CASCADE");
			}
		}
	}

	/**
	 * The alternating rounds. Both applications run for the whole comparison, so that the rounds measure them in a
	 * steady state rather than the just-in-time compilation that follows an application's start (which took a
	 * quarter of the CPU time well into a round when each round started its own application); they are closed before
	 * the relay's backlog is measured, whose application would otherwise share its table with a second relay.
	 */
	private static void compare(String servers, String url, Round[] duals, Round[] outboxes) throws Exception {
		try (Contestant dualWrite = new Contestant(servers, url, false);
				Contestant withOutbox = new Contestant(servers, url, true)) {
			withOutbox.transactions(WARM_UP); // warm-up: the rounds after it should not still speed up
			dualWrite.transactions(WARM_UP);
			for (int round = 0; round < ROUNDS; round++) { // alternating: both see the same drift of the machine
				duals[round] = dualWrite.transactions(TRANSACTIONS);
				outboxes[round] = withOutbox.transactions(TRANSACTIONS);
				System.out.printf("outbox benchmark round %d: dual write %s tx/s (p99 %.0f ms; CPU us/tx: %s), outbox %s "
						+ "tx/s (p99 %.0f ms; CPU us/tx: %s)%n", round + 1, Benchmarks.rate(duals[round].rate()),
						duals[round].p99Millis(), CpuUse.describe(duals[round].cpuMicros()),
						Benchmarks.rate(outboxes[round].rate()), outboxes[round].p99Millis(),
						CpuUse.describe(outboxes[round].cpuMicros()));
			}
		}
	}

	private static String ratios(double[] ratios) {
		return Arrays.stream(ratios).mapToObj(Benchmarks::ratio).collect(Collectors.joining(", "));
	}

	private static String rates(Round[] rounds) {
		return Arrays.stream(rounds)
			.map((round) -> Benchmarks.rate(round.rate()))
			.collect(Collectors.joining(" / "));
	}

	private static double median(Round[] rounds, ToDoubleFunction<Round> value) {
		return Benchmarks.median(Arrays.stream(rounds).mapToDouble(value).toArray());
	}

	/** The round whose rate is the median. */
	private static Round medianRound(Round[] rounds) {
		Round[] sorted = rounds.clone();
		Arrays.sort(sorted, Comparator.comparingDouble(Round::rate));
		return sorted[sorted.length / 2];
	}

	private static ConfigurableApplicationContext start(String servers, String url, boolean outbox, String... more) {
		List<String> args = new ArrayList<>(List.of("--spring.kafka.bootstrap-servers=" + servers,
				"--spring.main.banner-mode=off", "--spring.datasource.url=" + url,
				"--spring.datasource.hikari.maximum-pool-size=" + (THREADS + 4),
				"--reliable.kafka.outbox.enabled=" + outbox, "--reliable.kafka.outbox.initialize-schema=always"));
		for (String each : more) {
			args.add("--" + each);
		}
		return new SpringApplicationBuilder(OutboxApp.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(args.toArray(String[]::new));
	}

	/**
	 * One round: the transactions' rate, the 99th percentile of commit-to-acknowledgement times, and the CPU time per
	 * transaction (from the first transaction until every message was acknowledged).
	 */
	record Round(double rate, double p99Millis, Map<String, Double> cpuMicros) {
	}

	/**
	 * One contestant: an application on the benchmark's database, with the outbox or without it (then it sends with
	 * a plain {@code KafkaTemplate} after the commit), started once and measured over several rounds.
	 */
	static final class Contestant implements AutoCloseable {

		private final boolean outbox;

		private final DefaultKafkaProducerFactory<String, String> factory;

		private final KafkaTemplate<String, String> plain;

		private final ConfigurableApplicationContext context;

		private final JdbcTemplate jdbc;

		private final TransactionTemplate transactions;

		private final @Nullable ReliableKafkaTemplate reliable;

		/** One topic for every round: a new topic per round kept the broker's code compiling well into the rounds. */
		private final String topic;

		private int rounds;

		Contestant(String servers, String url, boolean outbox) throws Exception {
			this.outbox = outbox;
			Map<String, Object> producer = new HashMap<>();
			producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
			producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
			producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
			producer.put(ProducerConfig.ACKS_CONFIG, "all");
			this.factory = new DefaultKafkaProducerFactory<>(producer);
			this.plain = new KafkaTemplate<>(this.factory);
			this.context = start(servers, url, outbox);
			this.jdbc = this.context.getBean(JdbcTemplate.class);
			this.jdbc.execute("CREATE TABLE IF NOT EXISTS bench_orders (id VARCHAR(64) PRIMARY KEY, body VARCHAR(256))");
			this.transactions = this.context.getBean(TransactionTemplate.class);
			this.reliable = outbox ? this.context.getBean(ReliableKafkaTemplate.class) : null;
			this.plain.execute((created) -> null); // both producers exist before the clock starts (the relay's does)
			this.topic = Benchmarks.newTopic(servers, outbox ? "bench-outbox" : "bench-dual", 3);
		}

		/**
		 * One round: the transactions' rate, the 99th percentile of commit-to-acknowledgement times,
		 * and the CPU time per transaction (from the first transaction until every message was acknowledged).
		 */
		Round transactions(int count) throws Exception {
			String topic = this.topic;
			String prefix = topic + "-r" + (++this.rounds) + "-"; // order ids stay unique across rounds
			String padding = "x".repeat(80);
			long[] latencies = new long[count];
			CountDownLatch acknowledged = new CountDownLatch(count);
			ExecutorService threads = Executors.newFixedThreadPool(THREADS);
			try {
				List<Future<?>> futures = new ArrayList<>();
				CpuUse cpuBefore = CpuUse.now();
				long start = System.nanoTime();
				for (int t = 0; t < THREADS; t++) {
					int thread = t;
					futures.add(threads.submit(() -> {
						for (int i = thread; i < count; i += THREADS) {
							int n = i;
							String id = prefix + i;
							String body = "{\"order\":\"" + id + "\",\"p\":\"" + padding + "\"}";
							CompletableFuture<?> sent = this.transactions.execute((status) -> {
								this.jdbc.update("INSERT INTO bench_orders (id, body) VALUES (?, ?)", id, body);
								return (this.reliable != null) ? this.reliable.send(topic, id, body) : null;
							});
							long committed = System.nanoTime();
							if (this.reliable == null) {
								sent = this.plain.send(topic, id, body); // after the commit: lost if the process dies here
							}
							sent.whenComplete((result, failure) -> {
								latencies[n] = (failure == null) ? System.nanoTime() - committed : Long.MAX_VALUE;
								acknowledged.countDown();
							});
						}
						return null;
					}));
				}
				for (Future<?> future : futures) {
					future.get(10, TimeUnit.MINUTES);
				}
				double rate = count / ((System.nanoTime() - start) / 1e9);
				this.plain.flush();
				if (!acknowledged.await(2, TimeUnit.MINUTES)) {
					throw new IllegalStateException(acknowledged.getCount() + " of " + count
							+ " messages not acknowledged");
				}
				Map<String, Double> cpu = CpuUse.now().since(cpuBefore, count);
				Arrays.sort(latencies);
				if (latencies[count - 1] == Long.MAX_VALUE) {
					throw new IllegalStateException("a send failed");
				}
				return new Round(rate, latencies[(int) Math.ceil(count * 0.99) - 1] / 1e6, cpu);
			}
			finally {
				threads.shutdown();
			}
		}

		@Override
		public void close() {
			try {
				this.context.close();
			}
			finally {
				this.factory.destroy();
			}
		}

	}

	/** The relay's rate on a backlog, and the CPU time per row. */
	record Backlog(double rate, Map<String, Double> cpuMicros) {
	}

	static Backlog relay(String servers, String url) throws Exception {
		String topic = Benchmarks.newTopic(servers, "bench-relay", 3);
		String padding = "x".repeat(80);
		try (ConfigurableApplicationContext context = start(servers, url, true,
				"reliable.kafka.outbox.publish-mode=relay")) {
			TransactionalOutbox relay = context.getBean(TransactionalOutbox.class);
			relay.stop();
			TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
			ReliableKafkaTemplate reliable = context.getBean(ReliableKafkaTemplate.class);
			for (int batch = 0; batch < BACKLOG / 1_000; batch++) {
				int first = batch * 1_000;
				transactions.executeWithoutResult((status) -> {
					for (int i = first; i < first + 1_000; i++) {
						reliable.send(topic, "key-" + (i % 1_000), "{\"n\":" + i + ",\"p\":\"" + padding + "\"}");
					}
				});
			}
			long before = relay.publishedCount();
			CpuUse cpuBefore = CpuUse.now();
			long start = System.nanoTime();
			relay.start();
			while (relay.publishedCount() - before < BACKLOG) {
				Thread.sleep(5);
				if (System.nanoTime() - start > TimeUnit.MINUTES.toNanos(10)) {
					throw new IllegalStateException("the relay published " + (relay.publishedCount() - before) + " of "
							+ BACKLOG + " rows in 10 minutes");
				}
			}
			double rate = BACKLOG / ((System.nanoTime() - start) / 1e9);
			return new Backlog(rate, CpuUse.now().since(cpuBefore, BACKLOG));
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, DataSourceAutoConfiguration.class,
			DataSourceTransactionManagerAutoConfiguration.class, JdbcTemplateAutoConfiguration.class,
			TransactionAutoConfiguration.class, ReliableKafkaOutboxAutoConfiguration.class,
			ReliableKafkaProducerAutoConfiguration.class })
	static class OutboxApp {

	}

}
