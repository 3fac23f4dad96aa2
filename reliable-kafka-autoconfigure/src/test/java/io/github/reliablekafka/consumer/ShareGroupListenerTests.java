package io.github.reliablekafka.consumer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import io.github.reliablekafka.doctor.DoctorReport;
import io.github.reliablekafka.doctor.StartupDoctor;
import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.observe.ConsumerLagMonitor;
import io.github.reliablekafka.observe.LagSnapshot;
import io.github.reliablekafka.observe.ReliableKafkaEndpoint;
import io.github.reliablekafka.observe.ReplayFrom;
import io.github.reliablekafka.observe.ReplayOperations;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestApplications;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TestRedis;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Reliable share-group listeners ({@code group = GroupType.SHARE}) on a real broker with share groups on: the work
 * is shared, failures end in the dead-letter topic after exactly the configured attempts, a record that kills its
 * consumer every time ends there after the broker's delivery-count limit instead of being archived, long work keeps
 * its lock, and consumers killed mid-run lose nothing and double no effect.
 */
class ShareGroupListenerTests {

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	private TestDatabase database;

	@BeforeEach
	void reset() {
		ShareTestApplication.reset();
	}

	@AfterEach
	void close() {
		Collections.reverse(this.contexts);
		this.contexts.forEach(ConfigurableApplicationContext::close);
		this.contexts.clear();
		if (this.database != null) {
			this.database.close();
		}
	}

	@Test
	void aRecordThatAlwaysFailsEndsInTheDeadLetterTopicNotArchived() throws Exception {
		String topic = KafkaTestSupport.newTopic("share-fail", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		List<String> ids = ConsumerCrashTests.produce(topic, 2_000, (i) -> (i % 100 == 7) ? "fail-always-" + i : "v" + i);
		Set<String> failing = new java.util.HashSet<>();
		for (int i = 7; i < ids.size(); i += 100) {
			failing.add(ids.get(i));
		}
		start("test.topic=" + topic, "test.group=fail-" + topic, "test.concurrency=2",
				"reliable.kafka.consumer.idempotency.store=none");
		await().atMost(Duration.ofSeconds(90))
			.until(() -> handled() >= ids.size() - failing.size() && deadLetters(topic).size() >= failing.size());
		Thread.sleep(1_000); // a redelivery or a second dead letter would come now
		List<ConsumerRecord<String, byte[]>> letters = deadLetters(topic);
		Map<String, ConsumerRecord<String, byte[]>> byId = letters.stream()
			.collect(Collectors.toMap((letter) -> RkHeaders.id(letter.headers()), (letter) -> letter, (a, b) -> a));
		long lost = ids.stream().filter((id) -> !failing.contains(id) && !ShareTestApplication.runs.containsKey(id)).count();
		long legitimateInDlt = byId.keySet().stream().filter((id) -> !failing.contains(id)).count();
		List<Integer> failingRuns = failing.stream().map((id) -> ShareTestApplication.runs.get(id).get()).distinct().toList();
		System.out.printf("aRecordThatAlwaysFailsEndsInTheDeadLetterTopicNotArchived: records=%d always failing=%d "
				+ "handled=%d lost=%d dead letters=%d (distinct %d, legitimate %d) runs of each failing record=%s%n",
				ids.size(), failing.size(), handled(), lost, letters.size(), byId.size(), legitimateInDlt, failingRuns);
		assertThat(lost).isZero();
		assertThat(letters).hasSize(failing.size());
		assertThat(byId.keySet()).isEqualTo(failing);
		assertThat(failingRuns).containsExactly(3);
		DoctorReport doctor = this.contexts.get(0).getBean(StartupDoctor.class).report();
		System.out.println("doctor: " + doctor.checks().stream().filter((check) -> check.subject().startsWith("share"))
			.toList());
		assertThat(doctor.checks()).filteredOn((check) -> check.subject().startsWith("share groups"))
			.extracting(DoctorReport.Check::check, DoctorReport.Check::verdict)
			.contains(org.assertj.core.groups.Tuple.tuple("share.version", DoctorReport.Verdict.OK),
					org.assertj.core.groups.Tuple.tuple("group.share.delivery.count.limit", DoctorReport.Verdict.OK));
		// lag: the group's start offset is past every record, nothing waits; replay refuses a share group
		ConfigurableApplicationContext context = this.contexts.get(0);
		SharedAdmin admin = context.getBean(SharedAdmin.class);
		String group = "fail-" + topic;
		LagSnapshot lag = lagMonitor(admin, group, topic).refresh();
		System.out.println("share group lag: " + lag.partitions() + " warnings " + lag.warnings());
		assertThat(lag.partitions()).singleElement().satisfies((partition) -> {
			assertThat(partition.lag()).isZero();
			assertThat(partition.committed()).isBetween(0L, (long) ids.size()); // the start offset moves lazily
			assertThat(partition.end()).isEqualTo(ids.size());
		});
		assertThatThrownBy(() -> new ReplayOperations(context.getBean(KafkaListenerEndpointRegistry.class), admin, null,
				Duration.ofSeconds(10)).replay("main-jobs", ReplayFrom.beginning(), false))
			.isInstanceOf(IllegalArgumentException.class)
			.hasMessageContaining("share group");
		Map<String, Object> endpoint = new ReliableKafkaEndpoint(null,
				context.getBean(KafkaListenerEndpointRegistry.class), null, List::of, () -> Set.of(group), lagMonitor(admin,
						group, topic), null, null).report();
		System.out.println("endpoint listeners: " + endpoint.get("listeners"));
		assertThat(endpoint.get("listeners")).asString().contains("id=main-jobs").contains("groupType=share")
			.contains("running=true");
		MeterRegistry meters = this.contexts.get(0).getBean(MeterRegistry.class);
		assertThat(outcomes(meters, "success")).isEqualTo(ids.size() - failing.size());
		assertThat(outcomes(meters, "dead-lettered")).isEqualTo(failing.size());
		assertThat(outcomes(meters, "retried")).isEqualTo(2 * failing.size());
		assertThat(letters).allSatisfy((letter) -> {
			assertThat(header(letter, RkHeaders.DELIVERY_COUNT)).isEqualTo("3");
			assertThat(header(letter, "kafka_dlt-exception-message")).contains("always fails");
			assertThat(header(letter, "kafka_dlt-original-topic")).isEqualTo(topic);
			assertThat(header(letter, "kafka_dlt-original-consumer-group")).isEqualTo("fail-" + topic);
		});
	}

	@Test
	void threeConsumersShareOnePartitionAndEachEffectHappensOnce() throws Exception {
		String topic = KafkaTestSupport.newTopic("share-three", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		this.database = TestDatabase.postgres();
		JdbcTemplate jdbc = effectsTable();
		TestRedis redis = TestRedis.shared();
		List<String> ids = ConsumerCrashTests.produce(topic, 20_000, (i) -> "v" + i);
		long start = System.nanoTime();
		try {
			for (String name : List.of("a", "b", "c")) {
				start("test.topic=" + topic, "test.group=three-" + topic, "test.name=" + name,
						"test.db.url=" + this.database.url(), "reliable.kafka.consumer.idempotency.store=two-tier",
						"spring.data.redis.host=" + redis.host(), "spring.data.redis.port=" + redis.port(),
						"reliable.kafka.consumer.idempotency.redis-key-prefix=" + redis.keyPrefix(),
						"reliable.kafka.consumer.share.max-poll-records=50", "test.concurrency=2");
			}
			await().atMost(Duration.ofSeconds(180)).until(() -> effectRows(jdbc) >= ids.size());
			Thread.sleep(1_000);
			Map<String, Long> effects = effects(jdbc);
			long lost = ids.stream().filter((id) -> !effects.containsKey(id)).count();
			long doubled = effects.values().stream().filter((count) -> count > 1).count();
			Map<String, Integer> perConsumer = new java.util.TreeMap<>();
			ShareTestApplication.handledBy.forEach((name, count) -> perConsumer.put(name, count.get()));
			System.out.printf("threeConsumersShareOnePartitionAndEachEffectHappensOnce: records=%d in %d ms, effects=%d "
					+ "lost=%d doubled=%d handled per consumer=%s%n", ids.size(),
					(System.nanoTime() - start) / 1_000_000, effects.size(), lost, doubled, perConsumer);
			assertThat(lost).isZero();
			assertThat(doubled).isZero();
			assertThat(perConsumer).hasSize(3).allSatisfy((name, count) -> assertThat(count).isPositive());
		}
		finally {
			deleteKeys(redis);
		}
	}

	@Test
	void longWorkRenewsItsLockAndRunsOnce() throws Exception {
		String topic = KafkaTestSupport.newTopic("share-renew", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		String group = "renew-" + topic;
		lockDuration(group, 3_000);
		List<String> ids = ConsumerCrashTests.produce(topic, 3, (i) -> (i == 1) ? "slow-9000" : "v" + i);
		start("test.topic=" + topic, "test.group=" + group, "reliable.kafka.consumer.idempotency.store=none",
				"test.print=true");
		await().atMost(Duration.ofSeconds(60)).until(() -> handled() >= 3);
		Thread.sleep(4_000); // past a lock that ran out: a second run would start now
		List<Integer> runs = ids.stream().map((id) -> ShareTestApplication.runs.get(id).get()).toList();
		System.out.printf("longWorkRenewsItsLockAndRunsOnce: a 9 s record under a 3 s lock; runs per record=%s%n", runs);
		assertThat(runs).containsOnly(1);
		assertThat(deadLetters(topic)).isEmpty();
	}

	@Test
	void aRecordThatKillsItsConsumerEveryTimeEndsInTheDeadLetterTopic() throws Exception {
		String topic = KafkaTestSupport.newTopic("share-kill", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		String group = "kill-" + topic;
		lockDuration(group, 2_000);
		List<String> ids = ConsumerCrashTests.produce(topic, 101, (i) -> (i == 50) ? "kill" : "v" + i);
		String killer = ids.get(50);
		Set<String> others = new java.util.HashSet<>(ids);
		others.remove(killer);
		List<String> lines = new ArrayList<>();
		int kills = 0;
		for (int run = 0; run < 10; run++) {
			try (ChildJvm consumer = ChildJvm.of(ShareTestApplication.class.getName())
				.args("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(), "test.topic=" + topic,
						"test.group=" + group, "test.print=true", "reliable.kafka.consumer.idempotency.store=none")
				.start()) {
				consumer.awaitLine("STARTED", Duration.ofSeconds(60));
				long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
				while (consumer.isAlive() && !inDeadLetters(topic, killer) && System.nanoTime() < deadline) {
					Thread.sleep(200);
				}
				if (!consumer.isAlive()) {
					kills++;
					lines.addAll(consumer.lines());
					continue;
				}
				await().atMost(Duration.ofSeconds(60)).until(() -> done(lines, consumer).containsAll(others));
				lines.addAll(consumer.lines());
				break;
			}
		}
		List<ConsumerRecord<String, byte[]>> letters = deadLetters(topic);
		Set<String> done = lines.stream().filter((line) -> line.startsWith("DONE ")).map((line) -> line.split(" ")[1])
			.collect(Collectors.toSet());
		List<String> killedAt = lines.stream().filter((line) -> line.startsWith("KILLING ")).toList();
		long lost = ids.stream().filter((id) -> !id.equals(killer) && !done.contains(id)).count();
		System.out.printf("aRecordThatKillsItsConsumerEveryTimeEndsInTheDeadLetterTopic: consumers killed=%d (%s), "
				+ "dead letters=%d, other records done=%d lost=%d%n", kills, killedAt, letters.size(), done.size(), lost);
		assertThat(letters).hasSize(1);
		ConsumerRecord<String, byte[]> letter = letters.get(0);
		assertThat(RkHeaders.id(letter.headers())).isEqualTo(killer);
		assertThat(header(letter, "kafka_dlt-exception-fqcn")).isEqualTo(DeliveryLimitReachedException.class.getName());
		assertThat(header(letter, RkHeaders.DELIVERY_COUNT)).isEqualTo("5");
		assertThat(header(letter, "kafka_dlt-original-consumer-group")).isEqualTo(group);
		assertThat(killedAt).hasSize(4);
		assertThat(lost).isZero();
	}

	@Test
	void consumersKilledTwiceMidRunLoseNothingAndDoubleNoEffect() throws Exception {
		String topic = KafkaTestSupport.newTopic("share-sigkill", 1);
		String group = "sigkill-" + topic;
		lockDuration(group, 3_000);
		this.database = TestDatabase.postgres();
		JdbcTemplate jdbc = effectsTable();
		TestRedis redis = TestRedis.shared();
		List<String> ids = ConsumerCrashTests.produce(topic, 2_000, (i) -> "v" + i);
		List<String> properties = List.of("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(),
				"test.topic=" + topic, "test.group=" + group, "test.db.url=" + this.database.url(),
				"reliable.kafka.consumer.idempotency.store=two-tier", "spring.data.redis.host=" + redis.host(),
				"spring.data.redis.port=" + redis.port(),
				"reliable.kafka.consumer.idempotency.redis-key-prefix=" + redis.keyPrefix());
		List<ChildJvm> consumers = new ArrayList<>();
		try {
			consumers.add(child(properties, "a"));
			consumers.add(child(properties, "b"));
			for (int kill = 0; kill < 2; kill++) {
				long target = 500L * (kill + 1);
				await().atMost(Duration.ofSeconds(120)).until(() -> effectRows(jdbc) >= target);
				ChildJvm victim = consumers.remove(0);
				victim.kill();
				System.out.printf("SIGKILL %d of consumer %s at %d effects%n", kill + 1, victim.name(), effectRows(jdbc));
				victim.close();
				consumers.add(child(properties, "restart-" + kill));
			}
			await().atMost(Duration.ofSeconds(180)).until(() -> effects(jdbc).size() >= ids.size());
			Thread.sleep(4_000); // a lock that ran out would deliver its record again now
			Map<String, Long> effects = effects(jdbc);
			long lost = ids.stream().filter((id) -> !effects.containsKey(id)).count();
			long doubled = effects.values().stream().filter((count) -> count > 1).count();
			System.out.printf("consumersKilledTwiceMidRunLoseNothingAndDoubleNoEffect: records=%d effects=%d lost=%d "
					+ "doubled=%d%n", ids.size(), effectRows(jdbc), lost, doubled);
			assertThat(lost).isZero();
			assertThat(doubled).isZero();
		}
		finally {
			consumers.forEach(ChildJvm::close);
			deleteKeys(redis);
		}
	}

	private static ChildJvm child(List<String> properties, String name) {
		List<String> args = new ArrayList<>(properties);
		args.add("test.name=" + name);
		ChildJvm child = ChildJvm.of(ShareTestApplication.class.getName()).name("share-" + name).args(args).start();
		child.awaitLine("STARTED", Duration.ofSeconds(60));
		return child;
	}

	@Test
	void aShareListenerWithKeyOrderingStopsTheApplicationAtStartup() {
		assertThatThrownBy(() -> TestApplications.run(List.of(KeyOrderedShareListener.class,
				ConsumerTestApplication.AutoConfigurations.class),
				List.of("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers())))
			.isInstanceOf(io.github.reliablekafka.support.ReliableKafkaConfigurationException.class)
			.hasMessageContaining("'key-ordered-share'")
			.hasMessageContaining("ordering=KEY");
	}

	@Test
	void aShareListenerThatWantsToAcknowledgeItselfStopsTheApplicationAtStartup() {
		assertThatThrownBy(() -> TestApplications.run(List.of(AcknowledgingShareListener.class,
				ConsumerTestApplication.AutoConfigurations.class),
				List.of("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers())))
			.isInstanceOf(io.github.reliablekafka.support.ReliableKafkaConfigurationException.class)
			.hasMessageContaining("'acknowledging-share'")
			.hasMessageContaining("takes a parameter of type Acknowledgment");
	}

	/**
	 * A cluster with share groups off (here a second one-node broker whose share.version was downgraded to 0, the way
	 * an operator turns them off) stops an application with a share-group listener at startup, saying how to turn
	 * them on; it does not start a consumer that would wait forever.
	 */
	@Test
	void aClusterWithShareGroupsOffStopsTheApplicationAtStartup() throws Exception {
		org.springframework.kafka.test.EmbeddedKafkaKraftBroker shareOff =
				new org.springframework.kafka.test.EmbeddedKafkaKraftBroker(1, 1);
		shareOff.brokerListProperty("rk.test.share-off.brokers");
		shareOff.afterPropertiesSet();
		try (Admin admin = KafkaTestSupport.admin(shareOff.getBrokersAsString())) {
			admin.updateFeatures(Map.of("share.version", new org.apache.kafka.clients.admin.FeatureUpdate((short) 0,
					org.apache.kafka.clients.admin.FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)),
					new org.apache.kafka.clients.admin.UpdateFeaturesOptions()).all().get();
			await().atMost(Duration.ofSeconds(30)).until(() -> {
				var share = admin.describeFeatures().featureMetadata().get().finalizedFeatures().get("share.version");
				return share == null || share.maxVersionLevel() == 0;
			});
			Throwable failure = org.assertj.core.api.Assertions.catchThrowable(() -> TestApplications.run(
					List.of(PlainShareListener.class, ConsumerTestApplication.AutoConfigurations.class),
					List.of("spring.kafka.bootstrap-servers=" + shareOff.getBrokersAsString())));
			Throwable cause = failure;
			while (cause != null
					&& !(cause instanceof io.github.reliablekafka.support.ReliableKafkaConfigurationException)) {
				cause = cause.getCause();
			}
			System.out.printf("share groups off: the application stopped at startup with %s%n",
					(cause != null) ? cause.getMessage() : failure);
			assertThat(cause).as("the failure names the configuration problem").isNotNull();
			assertThat(cause).hasMessageContaining("'share-off'").hasMessageContaining("share groups off");
		}
		finally {
			shareOff.destroy();
		}
	}

	static class PlainShareListener {

		@ReliableListener(id = "share-off", topics = "never-read", groupId = "g", group = GroupType.SHARE)
		void on(String value) {
		}

	}

	static class AcknowledgingShareListener {

		@ReliableListener(id = "acknowledging-share", topics = "never-read", groupId = "g", group = GroupType.SHARE)
		void on(String value, org.springframework.kafka.support.Acknowledgment acknowledgment) {
		}

	}

	static class KeyOrderedShareListener {

		@ReliableListener(id = "key-ordered-share", topics = "never-read", groupId = "g", group = GroupType.SHARE,
				ordering = io.github.reliablekafka.dispatch.Ordering.KEY)
		void on(String value) {
		}

	}

	@Test
	void aDeadLetterThatCannotBeWrittenIsReleasedAndTheRecordComesBackUntilItIs() throws Exception {
		String topic = KafkaTestSupport.newTopic("share-dlt-fails", 1);
		// a dead-letter topic that refuses every dead letter (too large for it) until its limit is raised
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic + ".DLT", 1, (short) 1)
				.configs(Map.of("max.message.bytes", "64")))).all().get();
		}
		List<String> ids = ConsumerCrashTests.produce(topic, 20, (i) -> (i == 3) ? "fail-always" : "v" + i);
		String failing = ids.get(3);
		// two consumers: on its last delivery the record's dead letter is tried again in place, holding its consumer
		start("test.topic=" + topic, "test.group=dlt-" + topic, "reliable.kafka.consumer.idempotency.store=none",
				"reliable.kafka.consumer.retry.max-attempts=1", "test.concurrency=2");
		await().atMost(Duration.ofSeconds(60)).until(() -> handled() >= 19
				&& ShareTestApplication.runs.get(failing).get() >= 2);
		int runsWhileRefused = ShareTestApplication.runs.get(failing).get();
		assertThat(deadLetters(topic)).isEmpty();
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic + ".DLT"),
					List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "1048588"), AlterConfigOp.OpType.SET))))
				.all()
				.get();
		}
		await().atMost(Duration.ofSeconds(60)).until(() -> inDeadLetters(topic, failing));
		Thread.sleep(1_000);
		List<ConsumerRecord<String, byte[]>> letters = deadLetters(topic);
		System.out.printf("aDeadLetterThatCannotBeWrittenIsReleasedAndTheRecordComesBackUntilItIs: runs while the "
				+ "dead-letter topic refused=%d, dead letters once it took them=%d (delivery %s), others handled=%d%n",
				runsWhileRefused, letters.size(), (letters.isEmpty()) ? "-" : header(letters.get(0), RkHeaders.DELIVERY_COUNT),
				handled());
		assertThat(letters).singleElement().satisfies((letter) -> assertThat(RkHeaders.id(letter.headers())).isEqualTo(failing));
		assertThat(handled()).isEqualTo(19);
	}

	private static ConsumerLagMonitor lagMonitor(SharedAdmin admin, String group, String topic) {
		return new ConsumerLagMonitor(admin, () -> Map.of(group, Set.of(topic)), () -> Set.of(group),
				Duration.ofMinutes(1), Duration.ofSeconds(10), (snapshot) -> {
				});
	}

	/** The count of share-group outcomes of one result. */
	private static double outcomes(MeterRegistry meters, String result) {
		return meters.find("reliable.kafka.consumer.records").tag("group-type", "share").tag("result", result)
			.counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
	}

	private static Set<String> done(List<String> before, ChildJvm consumer) {
		List<String> all = new ArrayList<>(before);
		all.addAll(consumer.lines());
		return all.stream().filter((line) -> line.startsWith("DONE ")).map((line) -> line.split(" ")[1])
			.collect(Collectors.toSet());
	}

	private void start(String... properties) {
		List<String> all = new ArrayList<>(List.of("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers()));
		all.addAll(List.of(properties));
		this.contexts.add(ShareTestApplication.start(all));
	}

	private static int handled() {
		return ShareTestApplication.handledBy.values().stream().mapToInt(AtomicInteger::get).sum();
	}

	private static List<ConsumerRecord<String, byte[]>> deadLetters(String topic) {
		return KafkaTestSupport.readAll(KafkaTestSupport.bootstrapServers(), topic + ".DLT", Duration.ofSeconds(30));
	}

	private static boolean inDeadLetters(String topic, String id) {
		return deadLetters(topic).stream().anyMatch((letter) -> id.equals(RkHeaders.id(letter.headers())));
	}

	private static String header(ConsumerRecord<?, ?> record, String name) {
		var header = record.headers().lastHeader(name);
		return (header != null) ? new String(header.value(), StandardCharsets.UTF_8) : null;
	}

	/** Set a share group's acquisition lock, so that a killed consumer's records come back soon. */
	private static void lockDuration(String group, int millis) throws Exception {
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
					List.of(new AlterConfigOp(new ConfigEntry("share.record.lock.duration.ms", String.valueOf(millis)),
							AlterConfigOp.OpType.SET))))
				.all()
				.get();
		}
	}

	private JdbcTemplate effectsTable() {
		JdbcTemplate jdbc = new JdbcTemplate(this.database.dataSource());
		jdbc.execute("CREATE TABLE rk_effects (effect_key VARCHAR(255) NOT NULL, effect_value VARCHAR(255), "
				+ "consumer_group VARCHAR(255), context VARCHAR(64))");
		return jdbc;
	}

	private static long effectRows(JdbcTemplate jdbc) {
		Long rows = jdbc.queryForObject("SELECT COUNT(*) FROM rk_effects", Long.class);
		return (rows != null) ? rows : 0;
	}

	private static Map<String, Long> effects(JdbcTemplate jdbc) {
		Map<String, Long> counts = new HashMap<>();
		jdbc.query("SELECT effect_key, COUNT(*) AS n FROM rk_effects GROUP BY effect_key",
				(row) -> {
					counts.put(row.getString(1), row.getLong(2));
				});
		return counts;
	}

	private static void deleteKeys(TestRedis redis) {
		StringRedisTemplate template = new StringRedisTemplate(redis.connectionFactory());
		try (Cursor<String> keys = template.scan(ScanOptions.scanOptions().match(redis.keyPrefix() + "*").build())) {
			keys.forEachRemaining(template::delete);
		}
		redis.close();
	}

}
