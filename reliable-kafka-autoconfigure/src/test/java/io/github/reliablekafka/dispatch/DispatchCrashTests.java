package io.github.reliablekafka.dispatch;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the dispatcher delivers again when its consumer stops, is killed or loses partitions to another: consumer
 * processes in child JVMs (SIGTERM, SIGKILL, a second consumer joining and leaving) on the test broker, with no
 * idempotency guard, so that every redelivery shows: each listener writes each record it processes to PostgreSQL
 * (the identity column orders processing across processes, {@code finished_at} is the database's clock).
 */
class DispatchCrashTests {

	private static final int PARTITIONS = 4;

	private final List<ChildJvm> children = new ArrayList<>();

	@AfterEach
	void killChildren() {
		this.children.forEach(ChildJvm::close);
	}

	/**
	 * Three SIGTERMs while each partition holds up to 1,000 admitted records of 200 ms each (a backlog of about 12 s
	 * per partition on 16 workers): a stop starts nothing new, lets the records running finish, and commits the
	 * frontier naming what finished beyond it.
	 */
	@Test
	void aGracefulStopRedeliversNothingFinishedWhateverTheBacklog() throws Exception {
		int records = 4_000;
		try (TestDatabase database = TestDatabase.postgres()) {
			JdbcTemplate jdbc = effectsTable(database);
			String topic = KafkaTestSupport.newTopic("dispatch-stop", PARTITIONS);
			String group = "stop-" + topic;
			KeyOrderedDispatcherTests.produce(topic, 400, records, (key, seq) -> String.valueOf(seq));
			List<String> events = new ArrayList<>();
			int[] stopAt = { 800, 1_700, 2_600 };
			for (int i = 0; i < stopAt.length; i++) {
				ChildJvm consumer = consumer(topic, group, database, "s" + (i + 1), "test.work-min-ms=200",
						"test.work-max-ms=200");
				awaitEffects(jdbc, stopAt[i]);
				long start = System.nanoTime();
				consumer.terminate(Duration.ofSeconds(30));
				long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
				events.add(String.format("s%d stopped at %d effects in %d ms (%d partition(s) handed over, %d given up "
						+ "with records still running)", i + 1, effects(jdbc), took, count(consumer, "handed partition"),
						count(consumer, "gave up partition")));
				assertThat(count(consumer, "gave up partition")).as("records abandoned while running").isZero();
				consumer.close();
			}
			try (ChildJvm last = consumer(topic, group, database, "s4", "test.work-min-ms=200", "test.work-max-ms=200")) {
				awaitCaughtUp(topic, group);
				events.add("s4 skipped " + count(last, "will be skipped") + " partition(s)' finished records");
			}
			Counts counts = counts(jdbc, records);
			System.out.printf("graceful stops with a backlog: %,d records, %d partitions, 16 workers, 200 ms each, up to "
					+ "1,000 in flight per partition; %s; effects=%d processed twice=%d lost=%d%n", records, PARTITIONS,
					String.join("; ", events), counts.effects, counts.duplicates, counts.lost);
			assertThat(counts.lost).isZero();
			assertThat(counts.duplicates).isZero();
		}
	}

	/**
	 * A second consumer joins and later leaves (SIGTERM) while the first holds a backlog on every partition; with the
	 * classic protocol and with KIP-848 ({@code group.protocol=consumer}).
	 */
	@ParameterizedTest
	@ValueSource(strings = { "classic", "consumer" })
	void aRebalanceRedeliversNothingFinished(String protocol) throws Exception {
		int records = 6_000;
		try (TestDatabase database = TestDatabase.postgres()) {
			JdbcTemplate jdbc = effectsTable(database);
			String topic = KafkaTestSupport.newTopic("dispatch-rebalance", PARTITIONS);
			String group = "rebalance-" + topic;
			KeyOrderedDispatcherTests.produce(topic, 400, records, (key, seq) -> String.valueOf(seq));
			String[] settings = { "test.work-min-ms=100", "test.work-max-ms=200",
					"spring.kafka.consumer.properties.group.protocol=" + protocol };
			List<String> events = new ArrayList<>();
			ChildJvm a = consumer(topic, group, database, "a", settings);
			// b joins early: with KIP-848 its assignment can come 6 s after it started, and by then a must still hold
			// a backlog for b to take (joining at 1,000 effects, b once got partitions with fewer than 150 left)
			awaitEffects(jdbc, 200);
			ChildJvm b = consumer(topic, group, database, "b", settings);
			events.add("b joined at " + effects(jdbc));
			// b holds a backlog of its own when it leaves (with KIP-848 its assignment comes a few seconds after it joined)
			await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> jdbc.queryForObject(
					"SELECT COUNT(*) FROM dispatch_effects WHERE consumer = 'b'", Integer.class) >= 150);
			b.terminate(Duration.ofSeconds(30));
			events.add("b left at " + effects(jdbc));
			awaitCaughtUp(topic, group);
			events.add(String.format("a handed %d partition(s) over and skipped the finished records of %d; b handed "
					+ "%d over and skipped those of %d", count(a, "handed partition"), count(a, "will be skipped"),
					count(b, "handed partition"), count(b, "will be skipped")));
			assertThat(count(a, "gave up partition") + count(b, "gave up partition")).isZero();
			Counts counts = counts(jdbc, records);
			System.out.printf("rebalance (%s protocol) with a backlog: %,d records, %d partitions; %s; effects=%d "
					+ "processed twice=%d lost=%d%n", protocol, records, PARTITIONS, String.join(", ", events),
					counts.effects, counts.duplicates, counts.lost);
			assertThat(counts.lost).isZero();
			assertThat(counts.duplicates).isZero();
		}
	}

	/**
	 * Two SIGKILLs: nothing lost, no key reordered among first deliveries, and what comes again is at most what
	 * finished within one commit interval before each kill (every commit names the records finished beyond the
	 * frontier; an acknowledgement follows a record's finishing within 100 ms, its commit within one poll).
	 */
	@Test
	void killsLoseNothingReorderNoKeyAndRedeliverOnlyWhatFinishedSinceTheLastCommit() throws Exception {
		int records = 12_000;
		// at most 100 ms to an acknowledgement + one poll (at most 200 ms for a dispatching container) + the commit,
		// with a margin for a loaded machine
		Duration commitInterval = Duration.ofMillis(750);
		try (TestDatabase database = TestDatabase.postgres()) {
			JdbcTemplate jdbc = effectsTable(database);
			String topic = KafkaTestSupport.newTopic("dispatch-crash", PARTITIONS);
			String group = "crash-" + topic;
			KeyOrderedDispatcherTests.produce(topic, 200, records, (key, seq) -> String.valueOf(seq));
			List<String> events = new ArrayList<>();
			long bound = 0;
			int[] killAt = { 3_000, 7_000 };
			for (int i = 0; i < killAt.length; i++) {
				String name = "k" + (i + 1);
				ChildJvm consumer = consumer(topic, group, database, name, "test.work-max-ms=60");
				awaitEffects(jdbc, killAt[i]);
				consumer.kill();
				Timestamp killedAt = jdbc.queryForObject("SELECT clock_timestamp()", Timestamp.class);
				int recent = jdbc.queryForObject("SELECT COUNT(*) FROM dispatch_effects WHERE consumer = ? AND "
						+ "finished_at > ?", Integer.class, name,
						new Timestamp(killedAt.getTime() - commitInterval.toMillis()));
				bound += recent;
				events.add(String.format("%s killed at %d effects (%d finished in its last %d ms)", name, effects(jdbc),
						recent, commitInterval.toMillis()));
				consumer.close();
			}
			try (ChildJvm last = consumer(topic, group, database, "k3", "test.work-max-ms=60")) {
				awaitCaughtUp(topic, group);
			}
			Counts counts = counts(jdbc, records);
			System.out.printf("dispatcher under kills: %,d records, %d partitions, 200 keys, 16 workers; %s; effects=%d "
					+ "lost=%d reorders among first deliveries=%d processed twice=%d (bound: %d)%n", records, PARTITIONS,
					String.join(", ", events), counts.effects, counts.lost, counts.reorders, counts.duplicates, bound);
			assertThat(counts.lost).isZero();
			assertThat(counts.reorders).isZero();
			assertThat(counts.duplicates).isLessThanOrEqualTo(bound);
		}
	}

	private static JdbcTemplate effectsTable(TestDatabase database) {
		JdbcTemplate jdbc = new JdbcTemplate(database.dataSource());
		jdbc.execute("CREATE TABLE dispatch_effects (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
				+ "record_key VARCHAR(64), seq INT, record_partition INT, record_offset BIGINT, consumer VARCHAR(32), "
				+ "finished_at TIMESTAMP NOT NULL DEFAULT clock_timestamp())");
		return jdbc;
	}

	private ChildJvm consumer(String topic, String group, TestDatabase database, String name, String... settings) {
		List<String> args = new ArrayList<>(List.of("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(),
				"test.topic=" + topic, "test.group=" + group, "test.name=" + name, "test.db.url=" + database.url()));
		args.addAll(List.of(settings));
		ChildJvm child = ChildJvm.of(DispatchTestApplication.class.getName())
			.name("DispatchTestApplication-" + name)
			.args(args)
			.start();
		this.children.add(child);
		child.awaitLine("STARTED", Duration.ofSeconds(60));
		return child;
	}

	private static long count(ChildJvm child, String text) {
		return child.lines().stream().filter((line) -> line.contains(text)).count();
	}

	/** Effects (rows), records processed more than once, records never processed, and per-key reorders. */
	private record Counts(int effects, long duplicates, long lost, long reorders) {
	}

	private static Counts counts(JdbcTemplate jdbc, int records) {
		// per key, the sequence numbers in processing order, first deliveries only
		Map<String, List<Integer>> firstDeliveries = new HashMap<>();
		Map<String, Set<Integer>> seen = new HashMap<>();
		Set<Long> offsets = new HashSet<>();
		int[] rows = new int[1];
		jdbc.query("SELECT record_key, seq, record_partition, record_offset FROM dispatch_effects ORDER BY id", (rs) -> {
			rows[0]++;
			String key = rs.getString(1);
			int seq = rs.getInt(2);
			offsets.add(((long) rs.getInt(3) << 40) | rs.getLong(4));
			if (seen.computeIfAbsent(key, (k) -> new HashSet<>()).add(seq)) {
				firstDeliveries.computeIfAbsent(key, (k) -> new ArrayList<>()).add(seq);
			}
		});
		long reorders = 0;
		for (List<Integer> seqs : firstDeliveries.values()) {
			for (int i = 1; i < seqs.size(); i++) {
				if (seqs.get(i) < seqs.get(i - 1)) {
					reorders++;
				}
			}
		}
		return new Counts(rows[0], rows[0] - offsets.size(), records - offsets.size(), reorders);
	}

	private static int effects(JdbcTemplate jdbc) {
		return jdbc.queryForObject("SELECT COUNT(*) FROM dispatch_effects", Integer.class);
	}

	private static void awaitEffects(JdbcTemplate jdbc, int effects) {
		await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> effects(jdbc) >= effects);
	}

	private static void awaitCaughtUp(String topic, String group) {
		await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() -> caughtUp(topic, group));
	}

	private static boolean caughtUp(String topic, String group) {
		List<TopicPartition> all = new ArrayList<>();
		for (int p = 0; p < PARTITIONS; p++) {
			all.add(new TopicPartition(topic, p));
		}
		Map<TopicPartition, Long> committed = KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(),
				group, all);
		try (var admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
			all.forEach((partition) -> latest.put(partition, OffsetSpec.latest()));
			var ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
			return all.stream().allMatch((p) -> committed.getOrDefault(p, -1L) >= ends.get(p).offset());
		}
		catch (Exception ex) {
			return false;
		}
	}

}
