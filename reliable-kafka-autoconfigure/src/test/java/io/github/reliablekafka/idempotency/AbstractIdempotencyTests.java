package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.reliablekafka.idempotency.IdempotencyGuard.Outcome;
import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TestRedis;
import io.github.reliablekafka.testing.TopicWatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The idempotency guards' contract, run on each store through a subclass: real Redis, real databases, a real
 * broker, consumers killed with SIGKILL.
 */
abstract class AbstractIdempotencyTests {

	protected TestDatabase database;

	protected @Nullable TestRedis redis;

	protected JdbcTemplate jdbc;

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	/**
	 * The store under test.
	 * @return {@code redis}, {@code jdbc} or {@code two-tier}
	 */
	protected abstract String store();

	/**
	 * The database of the effects (and of the ledger, when the store has one).
	 * @return a fresh database
	 */
	protected abstract TestDatabase createDatabase();

	protected boolean usesRedis() {
		return !store().equals("jdbc");
	}

	protected boolean usesLedger() {
		return !store().equals("redis");
	}

	/** Consumer threads of the kill test: one for Redis alone, whose mark is not atomic with the effect. */
	protected int killTestConcurrency() {
		return usesLedger() ? 3 : 1;
	}

	@BeforeEach
	void prepare() {
		IdempotencyTestApplication.reset();
		this.database = createDatabase();
		this.jdbc = new JdbcTemplate(this.database.dataSource());
		this.jdbc.execute("CREATE TABLE rk_effects (effect_key VARCHAR(255) NOT NULL, effect_value VARCHAR(255), "
				+ "consumer_group VARCHAR(255), context VARCHAR(64))");
		this.redis = usesRedis() ? TestRedis.shared() : null;
	}

	@AfterEach
	void cleanUp() {
		Collections.reverse(this.contexts);
		this.contexts.forEach(ConfigurableApplicationContext::close);
		if (this.redis != null) {
			StringRedisTemplate template = new StringRedisTemplate(this.redis.connectionFactory());
			try (Cursor<String> keys = template.scan(ScanOptions.scanOptions().match(this.redis.keyPrefix() + "*").build())) {
				keys.forEachRemaining(template::delete);
			}
			this.redis.close();
		}
		this.database.close();
	}

	/**
	 * Headers and keys from outside cannot make a legitimate record look done: an rk-id that names another source's
	 * key (a payload hash, a claim counter), an empty one, an expression whose parts contain the separator, keys that
	 * differ only in case or a trailing space. Each legitimate record below must run; the only duplicates are the
	 * real ones at the end.
	 */
	@Test
	void aForgedMessageIdCannotMakeAnotherMessageADuplicate() throws Exception {
		IdempotencyGuard guard = guardOfThisStore();
		IdempotencyKeyResolver byId = new IdempotencyKeyResolver(IdempotencyKeyStrategy.MESSAGE_ID, null, null,
				io.github.reliablekafka.support.PayloadCodec.fastjson2());
		IdempotencyKeyResolver byExpression = new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION,
				"{#payload.orderId, #payload.status}", StatusChange.class,
				io.github.reliablekafka.support.PayloadCodec.fastjson2());
		IdempotencyKeyResolver byText = new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION, "#payload", null,
				io.github.reliablekafka.support.PayloadCodec.fastjson2());
		String group = "forgery";
		String realId = MessageIds.next();
		String hashOfLegit = byId.keyOf(forgeryRecord("legit", null));
		Map<String, Boolean> ran = new LinkedHashMap<>();
		// forged first, legitimate after: the forged ones must not pre-claim the legitimate ones' keys
		ran.put("rk-id naming a payload hash", runs(guard, group, byId.keyOf(forgeryRecord("forged", hashOfLegit))));
		ran.put("rk-id naming its old form", runs(guard, group,
				byId.keyOf(forgeryRecord("forged-2", hashOfLegit.replace("hash:", "sha256:")))));
		ran.put("rk-id naming a claim counter", runs(guard, group, byId.keyOf(forgeryRecord("forged-3", realId + ":claims"))));
		ran.put("empty rk-id, value a", runs(guard, group, byId.keyOf(forgeryRecord("a", ""))));
		ran.put("empty rk-id, value b", runs(guard, group, byId.keyOf(forgeryRecord("b", ""))));
		ran.put("legitimate record without rk-id", runs(guard, group, hashOfLegit));
		ran.put("legitimate record with its rk-id", runs(guard, group, byId.keyOf(forgeryRecord("real", realId))));
		ran.put("(1, PAID:X)", runs(guard, group, byExpression.keyOf(json(new StatusChange("1", "PAID:X")))));
		ran.put("(1:PAID, X)", runs(guard, group, byExpression.keyOf(json(new StatusChange("1:PAID", "X")))));
		ran.put("ORDER-1", runs(guard, group, byText.keyOf(forgeryRecord("ORDER-1", null))));
		ran.put("order-1", runs(guard, group, byText.keyOf(forgeryRecord("order-1", null))));
		ran.put("k1", runs(guard, group, byText.keyOf(forgeryRecord("k1", null))));
		ran.put("k1 (trailing space)", runs(guard, group, byText.keyOf(forgeryRecord("k1 ", null))));
		long skipped = ran.values().stream().filter((processed) -> !processed).count();
		boolean realAgain = runs(guard, group, byId.keyOf(forgeryRecord("real, again", realId.toUpperCase())));
		boolean orderAgain = runs(guard, group, byText.keyOf(forgeryRecord("order-1", null)));
		System.out.printf("[%s] forged and colliding keys: %d records, %d legitimate ones skipped %s; real duplicates "
				+ "skipped: %s%n", store(), ran.size(), skipped, ran, List.of(!realAgain, !orderAgain));
		assertThat(skipped).as("legitimate records skipped as duplicates").isZero();
		assertThat(realAgain).as("the same message id (in upper case) is a duplicate").isFalse();
		assertThat(orderAgain).as("the same key is a duplicate").isFalse();
	}

	record StatusChange(String orderId, String status) {
	}

	private static boolean runs(IdempotencyGuard guard, String group, String key) throws Exception {
		return guard.execute(group, key, () -> {
		}) == Outcome.PROCESSED;
	}

	private static ConsumerRecord<String, byte[]> json(StatusChange change) {
		return forgeryRecord(com.alibaba.fastjson2.JSON.toJSONString(change), null);
	}

	private static ConsumerRecord<String, byte[]> forgeryRecord(String value, @Nullable String rkId) {
		RecordHeaders headers = new RecordHeaders();
		if (rkId != null) {
			headers.add(RkHeaders.ID, rkId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
		}
		return new ConsumerRecord<>("orders", 0, 0, ConsumerRecord.NO_TIMESTAMP,
				org.apache.kafka.common.record.TimestampType.NO_TIMESTAMP_TYPE, -1, -1, "k",
				value.getBytes(java.nio.charset.StandardCharsets.UTF_8), headers, java.util.Optional.empty());
	}

	/** The guard of the store under test, on this test's database and Redis prefix. */
	private IdempotencyGuard guardOfThisStore() {
		new io.github.reliablekafka.internal.TableSchemaInitializer(this.database.dataSource(),
				ConsumedLedger.libraryTable("rk_consumed"), io.github.reliablekafka.support.SchemaInitialization.ALWAYS)
			.initializeDatabase();
		ConsumedLedger ledger = new ConsumedLedger(this.database.dataSource(), "rk_consumed");
		TransactionTemplate transactions = new TransactionTemplate(
				new DataSourceTransactionManager(this.database.dataSource()));
		StringRedisTemplate redisTemplate = (this.redis != null) ? new StringRedisTemplate(this.redis.connectionFactory())
				: null;
		return switch (store()) {
			case "redis" -> IdempotencyGuards.redis(redisTemplate, this.redis.keyPrefix(), Duration.ofDays(1),
					Duration.ofMinutes(5), 3, GuardListener.NONE);
			case "jdbc" -> IdempotencyGuards.jdbc(ledger, transactions, 3, GuardListener.NONE);
			default -> IdempotencyGuards.twoTier(redisTemplate, this.redis.keyPrefix(), ledger, transactions,
					Duration.ofDays(1), Duration.ofMinutes(5), 3, GuardListener.NONE);
		};
	}

	/** The properties of an application on this test's stores. */
	protected List<String> properties(String... more) {
		List<String> all = new ArrayList<>(List.of("spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(),
				"test.db.url=" + this.database.url(), "reliable.kafka.consumer.idempotency.store=" + store()));
		if (this.redis != null) {
			all.addAll(List.of("spring.data.redis.host=" + this.redis.host(), "spring.data.redis.port=" + this.redis.port(),
					"reliable.kafka.consumer.idempotency.redis-key-prefix=" + this.redis.keyPrefix()));
		}
		all.addAll(List.of(more));
		return all;
	}

	protected ConfigurableApplicationContext start(List<Class<?>> sources, String... properties) {
		ConfigurableApplicationContext context = IdempotencyTestApplication.start(sources, properties(properties));
		this.contexts.add(context);
		return context;
	}

	protected ConfigurableApplicationContext start(String... properties) {
		return start(List.of(), properties);
	}

	// --- the contract -------------------------------------------------------------------------------------------

	@Test
	void concurrencyFuzzGivesExactlyOneEffectPerKey() throws Exception {
		ConfigurableApplicationContext context = start("test.topic=unused", "test.group=fuzz", "test.listen=false");
		IdempotencyGuard guard = context.getBean(ReliableIdempotency.class).guard();
		assertThat(guard).isNotNull();
		assertThat(guard.store()).isEqualTo(store());
		JdbcTemplate appJdbc = context.getBean(JdbcTemplate.class);
		List<String> deliveries = new ArrayList<>();
		for (int copy = 0; copy < 5; copy++) {
			for (int key = 0; key < 1_000; key++) {
				deliveries.add("key-" + key);
			}
		}
		Collections.shuffle(deliveries);
		AtomicInteger next = new AtomicInteger();
		AtomicInteger processed = new AtomicInteger();
		AtomicInteger duplicates = new AtomicInteger();
		AtomicInteger waits = new AtomicInteger();
		ExecutorService threads = Executors.newFixedThreadPool(8);
		long start = System.nanoTime();
		List<Future<?>> futures = new ArrayList<>();
		for (int t = 0; t < 8; t++) {
			futures.add(threads.submit(() -> {
				for (int i = next.getAndIncrement(); i < deliveries.size(); i = next.getAndIncrement()) {
					String key = deliveries.get(i);
					while (true) {
						try {
							Outcome outcome = guard.execute("fuzz", key, () -> appJdbc.update(
									"INSERT INTO rk_effects (effect_key, effect_value) VALUES (?, 'fuzz')", key));
							(outcome == Outcome.PROCESSED ? processed : duplicates).incrementAndGet();
							break;
						}
						catch (GuardUnavailableException ex) { // another thread holds the key: wait, as a container does
							waits.incrementAndGet();
							Thread.sleep(2);
						}
					}
				}
				return null;
			}));
		}
		for (Future<?> future : futures) {
			future.get(4, TimeUnit.MINUTES);
		}
		threads.shutdown();
		Map<String, Long> effects = effectCounts();
		long doubled = effects.values().stream().filter((count) -> count > 1).count();
		System.out.printf("[%s] concurrency fuzz: 8 threads, 1,000 keys x 5 deliveries in %d ms: effects=%d keys=%d "
				+ "doubled=%d processed=%d duplicates=%d waits=%d%n", store(),
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), effects.values().stream().mapToLong(Long::longValue).sum(),
				effects.size(), doubled, processed.get(), duplicates.get(), waits.get());
		assertThat(effects).hasSize(1_000);
		assertThat(doubled).isZero();
		assertThat(processed.get()).isEqualTo(1_000);
		assertThat(duplicates.get()).isEqualTo(4_000);
		assertThat(checks(context, "new")).isEqualTo(1_000);
		assertThat(checks(context, "duplicate")).isEqualTo(4_000);
	}

	@Test
	void relayAndProducerDuplicatesHaveOneEffect() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-dups", 3);
		ConfigurableApplicationContext context = start("test.topic=" + topic, "test.group=dups-" + topic,
				"test.concurrency=3");
		List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 300; i++) { // a relay re-send: the same rk-id again, here on another partition
			String id = MessageIds.next();
			ids.add(id);
			records.add(record(topic, i % 3, "order-" + i, "v" + i, id));
			records.add(record(topic, (i + 1) % 3, "order-" + i, "v" + i, id));
		}
		for (int i = 0; i < 100; i++) { // a plain producer's retry: same key and value, no rk-id
			records.add(record(topic, null, "plain-" + i, "plain-" + i, null));
			records.add(record(topic, null, "plain-" + i, "plain-" + i, null));
		}
		Collections.shuffle(records);
		produce(records);
		await().atMost(Duration.ofSeconds(60)).until(() -> effectCounts().size() == 400);
		await().atMost(Duration.ofSeconds(30)).until(() -> checks(context, "duplicate") >= 400);
		Map<String, Long> effects = effectCounts();
		System.out.printf("[%s] 800 deliveries of 400 messages (300 by rk-id, 100 by payload hash): effects=%d "
				+ "doubled=%d skipped=%.0f%n", store(), effects.size(),
				effects.values().stream().filter((c) -> c > 1).count(), checks(context, "duplicate"));
		assertThat(effects).hasSize(400).allSatisfy((key, count) -> assertThat(count).isOne());
		assertThat(effects.keySet()).containsAll(ids);
		assertThat(checks(context, "new")).isEqualTo(400);
		assertThat(checks(context, "duplicate")).isEqualTo(400);
	}

	@Test
	void aHandlerThatFailsAfterItsEffectIsRetriedAndItsFirstEffectRolledBack() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-fail", 1);
		start("test.topic=" + topic, "test.group=fail-" + topic);
		List<String> ids = new ArrayList<>();
		List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			String id = MessageIds.next();
			ids.add(id);
			records.add(record(topic, null, "k" + i, "fail-once-" + i, id));
		}
		produce(records);
		await().atMost(Duration.ofSeconds(60))
			.until(() -> ids.stream().allMatch((id) -> invocations(id) == 2) && effectCounts().size() == 20);
		Thread.sleep(500);
		Map<String, Long> effects = effectCounts();
		System.out.printf("[%s] 20 records failing once after writing their effect: runs=%s effects per key=%s%n",
				store(), ids.stream().map(this::invocations).distinct().toList(), effects.values().stream().distinct().toList());
		assertThat(ids).allSatisfy((id) -> assertThat(invocations(id)).isEqualTo(2));
		// with a ledger the failed attempt's effect rolled back with its ledger row; Redis alone cannot undo it
		long expected = usesLedger() ? 1 : 2;
		assertThat(effects).hasSize(20).allSatisfy((key, count) -> assertThat(count).isEqualTo(expected));
		if (usesLedger()) {
			assertThat(this.jdbc.queryForObject("SELECT COUNT(*) FROM rk_consumed WHERE status = 'DONE'", Integer.class))
				.isEqualTo(20);
		}
	}

	@Test
	void twoConsumerGroupsAreNotDuplicatesOfEachOther() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-groups", 1);
		start("test.topic=" + topic, "test.group=first-" + topic, "test.name=first");
		start("test.topic=" + topic, "test.group=second-" + topic, "test.name=second");
		List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
		for (int i = 0; i < 50; i++) {
			records.add(record(topic, null, "k" + i, "v" + i, MessageIds.next()));
		}
		produce(records);
		await().atMost(Duration.ofSeconds(60))
			.until(() -> this.jdbc.queryForObject("SELECT COUNT(*) FROM rk_effects", Integer.class) == 100);
		assertThat(this.jdbc.queryForObject("SELECT COUNT(DISTINCT effect_key) FROM rk_effects WHERE consumer_group = ?",
				Integer.class, "first-" + topic)).isEqualTo(50);
		assertThat(this.jdbc.queryForObject("SELECT COUNT(DISTINCT effect_key) FROM rk_effects WHERE consumer_group = ?",
				Integer.class, "second-" + topic)).isEqualTo(50);
	}

	@Test
	void anExpressionKeyMakesTheSameOrderAndStatusOneEffect() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-orders", 1);
		start(List.of(OrderListeners.class), "test.topic=unused", "test.listen=false",
				"test.orders-topic=" + topic, "test.group=orders-" + topic);
		List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
		// each with its own rk-id: only the expression sees that they are the same business event
		records.add(record(topic, null, "o-1", "{\"orderId\":\"o-1\",\"status\":\"PAID\",\"amount\":1}", MessageIds.next()));
		records.add(record(topic, null, "o-1", "{\"orderId\":\"o-1\",\"status\":\"PAID\",\"amount\":2}", MessageIds.next()));
		records.add(record(topic, null, "o-1", "{\"orderId\":\"o-1\",\"status\":\"SHIPPED\",\"amount\":3}", MessageIds.next()));
		records.add(record(topic, null, "o-2", "{\"orderId\":\"o-2\",\"status\":\"PAID\",\"amount\":4}", MessageIds.next()));
		records.add(record(topic, null, "o-1", "{\"orderId\":\"o-1\",\"status\":\"SHIPPED\",\"amount\":5}", MessageIds.next()));
		produce(records);
		await().atMost(Duration.ofSeconds(30)).until(() -> effectCounts().size() == 3);
		Thread.sleep(1_000);
		assertThat(effectCounts().keySet()).containsExactlyInAnyOrder("o-1:PAID:1", "o-1:SHIPPED:3", "o-2:PAID:4");
	}

	@Test
	void theSameKeyOnTwoConsumersAtOnceRunsOnce() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-overlap", 1);
		String group = "overlap-" + topic;
		// the first consumer takes 12 s on the record but may be silent for 4 s: the group moves the partition on
		start("test.topic=" + topic, "test.group=" + group, "test.name=first",
				"spring.kafka.consumer.properties.max.poll.interval.ms=4000");
		String id = MessageIds.next();
		produce(List.of(record(topic, 0, "k", "slow-12000", id)));
		await().atMost(Duration.ofSeconds(30)).until(() -> invocations(id) == 1);
		long firstStarted = System.nanoTime();
		// no DDL at its startup: on PostgreSQL, CREATE INDEX IF NOT EXISTS waits for the first one's open transaction
		ConfigurableApplicationContext second = start("test.topic=" + topic, "test.group=" + group, "test.name=second",
				"reliable.kafka.consumer.idempotency.initialize-schema=never");
		try {
			await().atMost(Duration.ofSeconds(60)).until(() -> checks(second, "duplicate") >= 1);
		}
		catch (org.awaitility.core.ConditionTimeoutException ex) {
			throw new AssertionError("the second consumer did not skip the record: deliveries="
					+ IdempotencyTestApplication.deliveries + " runs=" + invocations(id) + " second new="
					+ checks(second, "new") + " first new=" + checks(this.contexts.get(0), "new") + " first duplicate="
					+ checks(this.contexts.get(0), "duplicate"), ex);
		}
		List<IdempotencyTestApplication.Delivery> toSecond = IdempotencyTestApplication.deliveries.stream()
			.filter((delivery) -> delivery.context().equals("second") && delivery.key().equals(id))
			.toList();
		long overlapMillis = TimeUnit.NANOSECONDS.toMillis(toSecond.get(0).nanos() - firstStarted);
		System.out.printf("[%s] rebalance overlap: second consumer got the record %d ms into the first one's 12 s of "
				+ "work, %d deliveries to it; handler runs=%d effects=%d%n", store(), overlapMillis, toSecond.size(),
				invocations(id), effectCounts().getOrDefault(id, 0L));
		assertThat(overlapMillis).as("the second consumer had the record while the first still ran it")
			.isLessThan(11_000);
		assertThat(invocations(id)).isOne();
		assertThat(effectCounts().get(id)).isOne();
	}

	@Test
	void redeliveryAfterConsumerKillChangesNothingTwice() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-kill", 3);
		String group = "kill-" + topic;
		List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 10_000; i++) {
			String id = MessageIds.next();
			ids.add(id);
			records.add(record(topic, null, "k" + (i % 100), "v" + i, id));
		}
		produce(records);
		// each run stops after the database commit of one of these, before its offset commit, and is killed there
		List<String> killPoints = List.of(ids.get(1_500), ids.get(4_500), ids.get(7_500));
		int skipped = 0;
		int kills = 0;
		for (int run = 1; run <= 4; run++) {
			try (ChildJvm consumer = child(topic, group, killTestConcurrency(),
					"test.block-ids=" + String.join(",", killPoints))) {
				if (run <= 3) {
					String blocked = consumer.awaitLine((line) -> line.startsWith("BLOCKED "), Duration.ofSeconds(120));
					consumer.kill();
					kills++;
					System.out.printf("[%s] run %d: killed after the commit of %s; %d effects so far%n", store(), run,
							blocked.substring(8), effectRows());
				}
				else {
					await().atMost(Duration.ofSeconds(180))
						.pollInterval(Duration.ofMillis(500))
						.until(() -> caughtUp(topic, group, 3));
				}
				skipped += (int) consumer.lines().stream().filter((line) -> line.startsWith("SKIPPED ")).count();
			}
		}
		Map<String, Long> effects = effectCounts();
		long lost = ids.stream().filter((id) -> !effects.containsKey(id)).count();
		long doubled = effects.values().stream().filter((count) -> count > 1).count();
		long claimed = claimedKeys(group);
		System.out.printf("redeliveryAfterConsumerKillChangesNothingTwice [%s]: records=%d kills=%d effects=%d "
				+ "lost=%d doubled=%d redelivered and skipped=%d keys with a claim counted=%d%n", store(), ids.size(),
				kills, effectRows(), lost, doubled, skipped, claimed);
		assertThat(kills).isEqualTo(3);
		if (usesLedger()) {
			// a record that follows a new one on its consumer thread is not claimed: only the first new record of a
			// partition after each start, rebalance or kill is (the Redis guard's claim is its lease: every record)
			assertThat(claimed).as("keys with a claim counted").isPositive().isLessThan(200);
		}
		assertThat(skipped).as("records redelivered after the kills").isGreaterThanOrEqualTo(3);
		assertThat(lost).isZero();
		assertThat(doubled).isZero();
		assertThat(effectRows()).isEqualTo(10_000);
	}

	@Test
	void aRecordThatKillsItsConsumerEveryTimeGoesToTheDeadLetterTopicAndTheRestFlowOn() throws Exception {
		String topic = KafkaTestSupport.newTopic("idem-crashloop", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		String group = "crashloop-" + topic;
		List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
		List<String> good = new ArrayList<>();
		String poison = null;
		for (int i = 0; i < 300; i++) {
			String id = MessageIds.next();
			if (i == 100) {
				poison = id;
			}
			else {
				good.add(id);
			}
			records.add(record(topic, 0, "k" + (i % 10), (i == 100) ? "crash" : "v" + i, id));
		}
		produce(records);
		int kills = 0;
		try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
			String poisonId = poison;
			java.util.function.BooleanSupplier deadLettered = () -> deadLetters.readFor(Duration.ofMillis(20))
				.stream()
				.anyMatch((record) -> poisonId.equals(RkHeaders.id(record.headers())));
			for (int run = 1; run <= 6 && !deadLettered.getAsBoolean(); run++) {
				try (ChildJvm consumer = child(topic, group, 1, "reliable.kafka.consumer.idempotency.lease=2s",
						"reliable.kafka.consumer.idempotency.max-claims=" + crashLoopMaxClaims())) {
					long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
					while (System.nanoTime() < deadline) {
						if (consumer.lines().stream().anyMatch((line) -> line.startsWith("CRASH-POINT "))) {
							consumer.kill(); // SIGKILL inside the handler, as a record that crashes the JVM would
							kills++;
							break;
						}
						if (deadLettered.getAsBoolean()) {
							await().atMost(Duration.ofSeconds(60)).until(() -> effectCounts().keySet().containsAll(good));
							break;
						}
						Thread.sleep(50);
					}
				}
			}
			List<ConsumerRecord<String, byte[]>> dead = deadLetters.awaitIds(List.of(poison), Duration.ofSeconds(5));
			String exception = RkHeaders.text(dead.get(0).headers(), KafkaHeaders.DLT_EXCEPTION_CAUSE_FQCN);
			Map<String, Long> effects = effectCounts();
			System.out.printf("[%s] crash loop (max-claims=%d): the poison record killed its consumer %d times, then "
					+ "went to the DLT (%s); effects of the other 299: %d, doubled %d%n", store(), crashLoopMaxClaims(),
					kills, exception,
					good.stream().filter(effects::containsKey).count(),
					effects.values().stream().filter((c) -> c > 1).count());
			assertThat(kills).isEqualTo(3);
			assertThat(exception).isEqualTo(CrashLoopException.class.getName());
			assertThat(effects).doesNotContainKey(poison);
			assertThat(good).allSatisfy((id) -> assertThat(effects.get(id)).isOne());
		}
	}

	/**
	 * The crash-loop test's {@code max-claims}, so that it takes 3 kills with every store: the ledger stores do not
	 * claim a record that follows a new one on the consumer thread, so its first kill is counted only when it is
	 * replayed (max-claims + 1 kills); the Redis guard claims every record (max-claims kills).
	 */
	protected int crashLoopMaxClaims() {
		return usesLedger() ? 2 : 3;
	}

	// --- helpers ------------------------------------------------------------------------------------------------

	/** Keys of the group whose claims count is above 0: in the ledger, or in Redis for the two-tier guard. */
	protected long claimedKeys(String group) {
		if (!usesLedger()) {
			return -1;
		}
		if (!usesRedis()) {
			return this.jdbc.queryForObject("SELECT COUNT(*) FROM rk_consumed WHERE consumer_group = ? AND claims > 0",
					Long.class, group);
		}
		StringRedisTemplate template = new StringRedisTemplate(this.redis.connectionFactory());
		long claimed = 0;
		try (Cursor<String> keys = template
			.scan(ScanOptions.scanOptions().match(this.redis.keyPrefix() + group + ":*:claims").count(1_000).build())) {
			while (keys.hasNext()) {
				String count = template.opsForValue().get(keys.next());
				if (count != null && Long.parseLong(count) > 0) {
					claimed++;
				}
			}
		}
		return claimed;
	}

	protected ChildJvm child(String topic, String group, int concurrency, String... more) {
		List<String> args = new ArrayList<>(properties("test.topic=" + topic, "test.group=" + group,
				"test.concurrency=" + concurrency, "test.print=true",
				// a killed consumer's partitions move on after 6 s, not the default 45 s
				"spring.kafka.consumer.properties.session.timeout.ms=6000",
				"spring.kafka.consumer.properties.heartbeat.interval.ms=2000"));
		args.addAll(List.of(more));
		ChildJvm child = ChildJvm.of(IdempotencyTestApplication.class.getName()).args(args).start();
		child.awaitLine("STARTED", Duration.ofSeconds(60));
		return child;
	}

	protected boolean caughtUp(String topic, String group, int partitions) {
		List<TopicPartition> all = new ArrayList<>();
		for (int p = 0; p < partitions; p++) {
			all.add(new TopicPartition(topic, p));
		}
		Map<TopicPartition, Long> committed = KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(),
				group, all);
		try (var admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
			all.forEach((partition) -> latest.put(partition, org.apache.kafka.clients.admin.OffsetSpec.latest()));
			var ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
			return all.stream().allMatch((partition) -> committed.getOrDefault(partition, -1L) >= ends.get(partition).offset());
		}
		catch (Exception ex) {
			return false;
		}
	}

	protected int invocations(String key) {
		AtomicInteger count = IdempotencyTestApplication.invocations.get(key);
		return (count != null) ? count.get() : 0;
	}

	protected Map<String, Long> effectCounts() {
		Map<String, Long> counts = new LinkedHashMap<>();
		this.jdbc.query("SELECT effect_key, COUNT(*) FROM rk_effects GROUP BY effect_key",
				(rs) -> {
					counts.put(rs.getString(1), rs.getLong(2));
				});
		return counts;
	}

	protected int effectRows() {
		return this.jdbc.queryForObject("SELECT COUNT(*) FROM rk_effects", Integer.class);
	}

	protected static double checks(ConfigurableApplicationContext context, String result) {
		return context.getBean(MeterRegistry.class)
			.find("reliable.kafka.idempotency.checks")
			.tag("result", result)
			.counters()
			.stream()
			.mapToDouble(Counter::count)
			.sum();
	}

	protected static ProducerRecord<String, byte[]> record(String topic, @Nullable Integer partition, String key,
			String value, @Nullable String id) {
		RecordHeaders headers = new RecordHeaders();
		if (id != null) {
			RkHeaders.set(headers, RkHeaders.ID, id);
		}
		return new ProducerRecord<>(topic, partition, key, value.getBytes(), headers);
	}

	protected static void produce(List<ProducerRecord<String, byte[]>> records) throws Exception {
		Map<String, Object> config = new HashMap<>();
		config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrapServers());
		config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
		config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
		try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config)) {
			List<Future<?>> sent = new ArrayList<>();
			records.forEach((record) -> sent.add(producer.send(record)));
			for (Future<?> future : sent) {
				future.get(30, TimeUnit.SECONDS);
			}
		}
	}

}
