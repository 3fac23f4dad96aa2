package io.github.reliablekafka.dispatch;

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

import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dispatcher's commits under crashes and rebalances: consumer processes in child JVMs, SIGKILLed twice, and a
 * second consumer joining and leaving, while their listeners write each record's effect to PostgreSQL (the effects'
 * identity column orders processing across processes).
 */
class DispatchCrashTests {

	private static final int PARTITIONS = 4;

	private static final int KEYS = 200;

	private static final int RECORDS = 30_000;

	private final List<ChildJvm> children = new ArrayList<>();

	@AfterEach
	void killChildren() {
		this.children.forEach(ChildJvm::close);
	}

	@Test
	void killsAndRebalancesLoseNothingAndReorderNoKey() throws Exception {
		try (TestDatabase database = TestDatabase.postgres()) {
			JdbcTemplate jdbc = new JdbcTemplate(database.dataSource());
			jdbc.execute("CREATE TABLE dispatch_effects (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
					+ "record_key VARCHAR(64), seq INT, record_partition INT, record_offset BIGINT, consumer VARCHAR(32))");
			String topic = KafkaTestSupport.newTopic("dispatch-crash", PARTITIONS);
			String group = "crash-" + topic;
			KeyOrderedDispatcherTests.produce(topic, KEYS, RECORDS, (key, seq) -> String.valueOf(seq));
			List<String> events = new ArrayList<>();
			ChildJvm a = consumer(topic, group, database, "a1");
			awaitEffects(jdbc, 5_000);
			a.kill();
			events.add("a1 killed at " + effects(jdbc));
			a.close();
			a = consumer(topic, group, database, "a2");
			awaitEffects(jdbc, 11_000);
			ChildJvm b = consumer(topic, group, database, "b");
			events.add("b joined at " + effects(jdbc));
			awaitEffects(jdbc, 17_000);
			b.terminate(Duration.ofSeconds(30));
			events.add("b left at " + effects(jdbc));
			b.close();
			awaitEffects(jdbc, 22_000);
			a.kill();
			events.add("a2 killed at " + effects(jdbc));
			a.close();
			try (ChildJvm last = consumer(topic, group, database, "a3")) {
				await().atMost(Duration.ofMinutes(3))
					.pollInterval(Duration.ofMillis(500))
					.until(() -> caughtUp(topic, group));
			}
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
			long lost = RECORDS - offsets.size();
			System.out.printf("dispatcher under kills and rebalances: %,d records, %d partitions, %d keys, 16 lanes; %s; "
					+ "effects=%d lost=%d reorders among first deliveries=%d duplicates=%d%n", RECORDS, PARTITIONS, KEYS,
					String.join(", ", events), rows[0], lost, reorders, rows[0] - offsets.size());
			assertThat(lost).isZero();
			assertThat(reorders).isZero();
			assertThat(offsets).hasSize(RECORDS);
		}
	}

	private ChildJvm consumer(String topic, String group, TestDatabase database, String name) {
		ChildJvm child = ChildJvm.of(DispatchTestApplication.class.getName())
			.name("DispatchTestApplication-" + name)
			.args("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(), "test.topic=" + topic,
					"test.group=" + group, "test.name=" + name, "test.db.url=" + database.url(), "test.work-max-ms=60")
			.start();
		this.children.add(child);
		child.awaitLine("STARTED", Duration.ofSeconds(60));
		return child;
	}

	private static int effects(JdbcTemplate jdbc) {
		return jdbc.queryForObject("SELECT COUNT(*) FROM dispatch_effects", Integer.class);
	}

	private static void awaitEffects(JdbcTemplate jdbc, int effects) {
		await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> effects(jdbc) >= effects);
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
