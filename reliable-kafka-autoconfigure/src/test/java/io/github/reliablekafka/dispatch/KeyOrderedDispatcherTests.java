package io.github.reliablekafka.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.consumer.ReliableKafkaListenerContainerFactory;
import io.github.reliablekafka.consumer.ReliableListener;
import io.github.reliablekafka.dispatch.DispatchTestApplication.Deliveries;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TopicWatcher;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The key-ordered dispatcher on the embedded broker: order per key under parallel work, contiguous commits, a
 * blocked key, back-pressure, failures on a lane and a draining shutdown.
 */
class KeyOrderedDispatcherTests {

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	@AfterEach
	void close() {
		this.contexts.forEach(ConfigurableApplicationContext::close);
	}

	private ConfigurableApplicationContext start(String topic, String... more) {
		List<String> properties = new ArrayList<>(List.of(
				"spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(), "test.topic=" + topic,
				"test.group=group-" + topic));
		properties.addAll(List.of(more));
		ConfigurableApplicationContext context = DispatchTestApplication.start(properties);
		this.contexts.add(context);
		return context;
	}

	@Test
	void oneHundredThousandRecordsOnOnePartitionKeepKeyOrderOn16LanesAndCommitToTheEnd() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-order", 1);
		int keys = 1_000;
		int records = 100_000;
		produce(topic, keys, records, (key, seq) -> String.valueOf(seq));
		long start = System.nanoTime();
		ConfigurableApplicationContext context = start(topic, "test.work-max-ms=2");
		Deliveries deliveries = context.getBean(Deliveries.class);
		await().atMost(Duration.ofMinutes(3)).until(() -> deliveries.total.get() >= records);
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
		await().atMost(Duration.ofSeconds(30)).until(() -> committed(topic, 0, "group-" + topic) == records);
		Thread.sleep(500);
		long violations = orderViolations(deliveries);
		System.out.printf("key order on one partition: %,d records over %,d keys, 16 lanes, 0-2 ms work: %d ms "
				+ "(%.0f records/s), processed=%d distinct offsets=%d order violations=%d max concurrent=%d "
				+ "committed=%d%n", records, keys, millis, records * 1000.0 / millis, deliveries.total.get(),
				deliveries.offsets.size(), violations, deliveries.maxConcurrent.get(), committed(topic, 0, "group-" + topic));
		assertThat(violations).isZero();
		assertThat(deliveries.total.get()).isEqualTo(records);
		assertThat(deliveries.offsets).hasSize(records);
		assertThat(deliveries.maxConcurrent.get()).as("keys ran in parallel, on at most the 16 workers")
			.isBetween(12, 16);
		assertThat(committed(topic, 0, "group-" + topic)).isEqualTo(records);
	}

	@Test
	void aKeyBlockedForFiveSecondsHoldsOnlyItsOwnLaterRecords() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-block", 1);
		// the blocked key's first record, then 3,000 records of other keys and the blocked key's later ones
		List<ProducerRecord<String, String>> records = new ArrayList<>();
		records.add(new ProducerRecord<>(topic, 0, "slow", "0:block-5000"));
		for (int i = 1; i <= 3_000; i++) {
			records.add(new ProducerRecord<>(topic, 0, (i % 100 == 0) ? "slow" : "k" + (i % 97), String.valueOf(i)));
		}
		send(records);
		// a bound above the 3,001 records: the records finished behind the blocked one count against it until the
		// frontier passes them (aStuckKeyPausesItsPartitionInsteadOfPilingUpTheFinishedRecordsBehindIt)
		ConfigurableApplicationContext context = start(topic, "test.work-max-ms=1",
				"reliable.kafka.consumer.dispatch.max-in-flight-per-partition=5000");
		Deliveries deliveries = context.getBean(Deliveries.class);
		long start = System.nanoTime();
		int others = (int) records.stream().filter((r) -> lane(r.key(), 16) != lane("slow", 16)).count();
		await().atMost(Duration.ofSeconds(60)).until(() -> deliveries.total.get() >= 3_001);
		int slowLane = lane("slow", 16);
		long othersDoneAt = deliveries.byKey.entrySet()
			.stream()
			.filter((entry) -> lane(entry.getKey(), 16) != slowLane) // keys sharing its lane wait with it
			.flatMap((entry) -> entry.getValue().stream().map((seq) -> deliveries.finishedNanos.get(entry.getKey() + ":" + seq)))
			.mapToLong(Long::longValue)
			.max()
			.orElseThrow();
		long slowFirstDone = deliveries.finishedNanos.get("slow:0");
		long slowLaterFirst = deliveries.byKey.get("slow")
			.stream()
			.filter((seq) -> seq > 0)
			.mapToLong((seq) -> deliveries.finishedNanos.get("slow:" + seq))
			.min()
			.orElseThrow();
		double othersSeconds = (othersDoneAt - start) / 1e9;
		System.out.printf("a key blocked for 5 s: the other %d records of other keys finished %.2f s after start "
				+ "(%.0f records/s while it blocked); the blocked key's later records started after it: %s; order "
				+ "violations=%d%n", others, othersSeconds, others / othersSeconds, slowLaterFirst > slowFirstDone,
				orderViolations(deliveries));
		assertThat(othersDoneAt).as("the other lanes did not wait for the blocked key").isLessThan(slowFirstDone);
		assertThat(slowLaterFirst).as("the blocked key's later records waited behind it").isGreaterThan(slowFirstDone);
		assertThat(orderViolations(deliveries)).isZero();
		await().atMost(Duration.ofSeconds(30)).until(() -> committed(topic, 0, "group-" + topic) == 3_001);
	}

	/**
	 * A record that does not finish, with 50,000 records of other keys behind it: the records that finish behind it
	 * wait for the frontier, and they count against max-in-flight-per-partition and the bytes bound, so the partition
	 * is paused instead of piling them up (before, one stuck partition held 57,678 finished records while 1.86 MB was
	 * counted).
	 */
	@Test
	void aStuckKeyPausesItsPartitionInsteadOfPilingUpTheFinishedRecordsBehindIt() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-stuck", 1);
		List<ProducerRecord<String, String>> records = new ArrayList<>();
		records.add(new ProducerRecord<>(topic, 0, "stuck", "0:block-12000"));
		for (int i = 1; i <= 50_000; i++) {
			records.add(new ProducerRecord<>(topic, 0, "k" + (i % 997), String.valueOf(i)));
		}
		send(records);
		ConfigurableApplicationContext context = start(topic);
		Deliveries deliveries = context.getBean(Deliveries.class);
		KeyOrderedDispatcher dispatcher = dispatcher(context);
		TopicPartition partition = new TopicPartition(topic, 0);
		int maxHeld = 0;
		long maxBytes = 0;
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
		while (System.nanoTime() < deadline) {
			maxHeld = Math.max(maxHeld, dispatcher.monitor().inFlight() + dispatcher.monitor().commitGap(partition));
			maxBytes = Math.max(maxBytes, dispatcher.monitor().inFlightBytes());
			Thread.sleep(20);
		}
		boolean paused = dispatcher.monitor().isPaused(partition);
		int processedWhileStuck = deliveries.total.get();
		await().atMost(Duration.ofSeconds(120)).until(() -> deliveries.total.get() >= 50_001);
		await().atMost(Duration.ofSeconds(30)).until(() -> committed(topic, 0, "group-" + topic) == 50_001);
		System.out.printf("a key stuck for 12 s with 50,000 records behind it: at most %d records held (bound 1,000 + one "
				+ "poll of 500), %d bytes counted, paused while stuck: %s, %d processed while stuck, then all %d, order "
				+ "violations=%d%n", maxHeld, maxBytes, paused, processedWhileStuck, deliveries.total.get(),
				orderViolations(deliveries));
		assertThat(maxHeld).as("records held: queued, running and finished behind the stuck one").isLessThanOrEqualTo(1_500);
		assertThat(paused).isTrue();
		assertThat(orderViolations(deliveries)).isZero();
	}

	@Test
	void whileAKeyIsBlockedTheFrontierStaysBehindItAndTheGapIsMeasured() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-frontier", 1);
		List<ProducerRecord<String, String>> records = new ArrayList<>();
		for (int i = 0; i < 50; i++) {
			records.add(new ProducerRecord<>(topic, 0, "k" + i, String.valueOf(i)));
		}
		records.add(new ProducerRecord<>(topic, 0, "slow", "0:block-4000"));
		for (int i = 0; i < 200; i++) {
			records.add(new ProducerRecord<>(topic, 0, "k" + i, String.valueOf(i + 1_000)));
		}
		send(records);
		ConfigurableApplicationContext context = start(topic);
		Deliveries deliveries = context.getBean(Deliveries.class);
		await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.total.get() >= 200);
		Thread.sleep(1_200); // longer than the poll timeout: acknowledged offsets are committed by now
		long committedDuring = committed(topic, 0, "group-" + topic);
		double gap = context.getBean(MeterRegistry.class)
			.get("reliable.kafka.dispatch.commit.gap")
			.tag("partition", "0")
			.gauge()
			.value();
		await().atMost(Duration.ofSeconds(30)).until(() -> committed(topic, 0, "group-" + topic) == 251);
		System.out.printf("frontier: committed %d while offset 50 was blocked (gap gauge %.0f), then 251%n",
				committedDuring, gap);
		assertThat(committedDuring).isEqualTo(50);
		assertThat(gap).isGreaterThanOrEqualTo(150);
	}

	@Test
	void aHandlerFarSlowerThanTheProducerPausesThePartitionAndStaysInItsGroup() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-pressure", 1);
		produce(topic, 500, 4_000, (key, seq) -> String.valueOf(seq));
		ConfigurableApplicationContext context = start(topic, "test.work-max-ms=80",
				"reliable.kafka.consumer.dispatch.max-in-flight-per-partition=200",
				"spring.kafka.consumer.max-poll-records=50",
				"spring.kafka.consumer.properties.max.poll.interval.ms=8000");
		Deliveries deliveries = context.getBean(Deliveries.class);
		KeyOrderedDispatcher dispatcher = dispatcher(context);
		TopicPartition partition = new TopicPartition(topic, 0);
		int maxInFlight = 0;
		int pausedSamples = 0;
		int samples = 0;
		while (deliveries.total.get() < 4_000) {
			maxInFlight = Math.max(maxInFlight, dispatcher.monitor().inFlight());
			pausedSamples += dispatcher.monitor().isPaused(partition) ? 1 : 0;
			samples++;
			Thread.sleep(20);
			assertThat(samples).as("finished in time").isLessThan(6_000);
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> committed(topic, 0, "group-" + topic) == 4_000);
		System.out.printf("back-pressure: 4,000 records of 0-80 ms work on 16 lanes (%.1f s, longer than "
				+ "max.poll.interval.ms=8 s): max in flight %d (bound 200 + one poll of 50), paused in %d of %d samples, "
				+ "processed=%d distinct=%d%n", samples * 0.02, maxInFlight, pausedSamples, samples,
				deliveries.total.get(), deliveries.offsets.size());
		assertThat(maxInFlight).isLessThanOrEqualTo(250);
		assertThat(pausedSamples).isPositive();
		assertThat(deliveries.offsets).as("never kicked out of the group: nothing redelivered").hasSize(4_000);
		assertThat(deliveries.total.get()).isEqualTo(4_000);
	}

	@Test
	void pausesAndResumesRacingEachOtherNeverStallAPartition() throws Exception {
		// instant work and a tiny bound: partitions are paused and resumed thousands of times, from the consumer
		// threads and the lanes at once, across three consumers and their rebalances
		String topic = KafkaTestSupport.newTopic("dispatch-races", 12);
		produce(topic, 1_000, 60_000, (key, seq) -> String.valueOf(seq));
		ConfigurableApplicationContext context = start(topic, "test.concurrency=3",
				"reliable.kafka.consumer.dispatch.max-in-flight-per-partition=8");
		Deliveries deliveries = context.getBean(Deliveries.class);
		await().atMost(Duration.ofSeconds(90)).until(() -> deliveries.total.get() >= 60_000);
		await().atMost(Duration.ofSeconds(30)).until(() -> committedTotal(topic, 12) == 60_000);
		System.out.printf("pause/resume races: 60,000 records on 12 partitions, 3 consumers, at most 8 in flight per "
				+ "partition: processed=%d distinct=%d order violations=%d%n", deliveries.total.get(),
				deliveries.offsets.size(), orderViolations(deliveries));
		assertThat(deliveries.offsets).hasSize(60_000);
		assertThat(orderViolations(deliveries)).isZero();
	}

	@Test
	void withTheKip848ProtocolTwoConsumersShareThePartitionsWithoutLossOrReorder() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-kip848", 4);
		produce(topic, 200, 20_000, (key, seq) -> String.valueOf(seq));
		ConfigurableApplicationContext context = start(topic, "test.concurrency=2", "test.work-max-ms=1",
				"spring.kafka.consumer.properties.group.protocol=consumer");
		Deliveries deliveries = context.getBean(Deliveries.class);
		await().atMost(Duration.ofSeconds(120)).until(() -> deliveries.total.get() >= 20_000);
		await().atMost(Duration.ofSeconds(30)).until(() -> committedTotal(topic, 4) == 20_000);
		System.out.printf("KIP-848 protocol, 2 consumers, 4 partitions: processed=%d distinct=%d order violations=%d%n",
				deliveries.total.get(), deliveries.offsets.size(), orderViolations(deliveries));
		assertThat(deliveries.offsets).hasSize(20_000);
		assertThat(orderViolations(deliveries)).isZero();
	}

	@Test
	void aFailingRecordIsRetriedOnItsLaneThenDeadLetteredWhileTheOtherLanesFlow() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-fail", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		List<ProducerRecord<String, String>> records = new ArrayList<>();
		for (int i = 0; i < 1_000; i++) {
			records.add(new ProducerRecord<>(topic, 0, "k" + (i % 50), (i == 10) ? i + ":fail" : String.valueOf(i)));
		}
		send(records);
		ConfigurableApplicationContext context = start(topic);
		Deliveries deliveries = context.getBean(Deliveries.class);
		try (TopicWatcher dead = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
			await().atMost(Duration.ofSeconds(60)).until(() -> deliveries.total.get() >= 999);
			await().atMost(Duration.ofSeconds(30)).until(() -> !dead.readFor(Duration.ofMillis(100)).isEmpty());
			await().atMost(Duration.ofSeconds(30)).until(() -> committed(topic, 0, "group-" + topic) == 1_000);
			String failedKey = "k10:10";
			System.out.printf("a failing record: %d attempts on its lane, then the DLT (%d record); the other 999 "
					+ "processed, order violations=%d, committed=%d%n", deliveries.failures.get(failedKey).get(),
					dead.records().size(), orderViolations(deliveries), committed(topic, 0, "group-" + topic));
			assertThat(deliveries.failures.get(failedKey)).hasValue(3);
			assertThat(dead.records()).hasSize(1);
			assertThat(new String(dead.records().get(0).value())).isEqualTo("10:fail");
			assertThat(orderViolations(deliveries)).isZero();
		}
	}

	@Test
	void recordsRunOnTheLanesWithTheConsumerThreadsMdcAndTheGaugesArePublished() throws Exception {
		String topic = KafkaTestSupport.newTopic("dispatch-gauges", 1);
		produce(topic, 10, 100, (key, seq) -> String.valueOf(seq));
		ConfigurableApplicationContext context = start(topic,
				"spring.kafka.consumer.properties.interceptor.classes=" + MdcOnConsumerThread.class.getName());
		Deliveries deliveries = context.getBean(Deliveries.class);
		await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.total.get() >= 100);
		MeterRegistry registry = context.getBean(MeterRegistry.class);
		for (String name : List.of("reliable.kafka.dispatch.in-flight", "reliable.kafka.dispatch.lane.depth",
				"reliable.kafka.dispatch.oldest.age", "reliable.kafka.dispatch.commit.gap")) {
			Gauge gauge = registry.find(name).gauge();
			assertThat(gauge).as(name).isNotNull();
		}
		assertThat(deliveries.threads).isNotEmpty()
			.allSatisfy((thread) -> assertThat(thread).startsWith("rk-dispatch-"));
		// every record saw, on its lane thread, the MDC the consumer thread had when it dispatched the record
		assertThat(deliveries.mdcSeen).isNotEmpty()
			.allSatisfy((value) -> assertThat(value).startsWith("set-on-main-keyed-0-C-"));
		assertThat(deliveries.mdcMissing.get()).isZero();
	}

	// --- helpers ------------------------------------------------------------------------------------------------

	interface Value {

		String of(String key, int seq);

	}

	/** The lane of a key on a partition with {@code workers} workers. */
	static int lane(String key, int workers) {
		return LaneHash.laneOf(key, LaneTurns.laneCount(workers));
	}

	@Test
	void theKeysOfOnePartitionSpreadOverAllItsLanes() {
		// Kafka's partitioner places keys by murmur2 % partitions; lanes must not reuse that hash unmixed
		for (int partitions : new int[] { 2, 4, 8, 12, 16 }) {
			int lanesPerPartition = LaneTurns.laneCount(16);
			int[][] perLane = new int[partitions][lanesPerPartition];
			for (int i = 0; i < 100_000; i++) {
				String key = "key-" + i;
				int partition = org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils
					.murmur2(key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
				perLane[partition][lane(key, 16)]++;
			}
			for (int[] lanes : perLane) {
				int total = java.util.Arrays.stream(lanes).sum();
				int max = java.util.Arrays.stream(lanes).max().orElseThrow();
				int min = java.util.Arrays.stream(lanes).min().orElseThrow();
				assertThat(max).as("the busiest of %d lanes with %d partitions", lanesPerPartition, partitions)
					.isLessThan(total / lanesPerPartition * 15 / 10);
				assertThat(min).as("the idlest of %d lanes with %d partitions", lanesPerPartition, partitions)
					.isGreaterThan(total / lanesPerPartition * 5 / 10);
			}
		}
	}

	static long orderViolations(Deliveries deliveries) {
		long violations = 0;
		for (List<Integer> seqs : deliveries.byKey.values()) {
			synchronized (seqs) {
				for (int i = 1; i < seqs.size(); i++) {
					if (seqs.get(i) < seqs.get(i - 1)) {
						violations++;
					}
				}
			}
		}
		return violations;
	}

	static KeyOrderedDispatcher dispatcher(ConfigurableApplicationContext context) {
		return context.getBean(ReliableListener.CONTAINER_FACTORY, ReliableKafkaListenerContainerFactory.class)
			.dispatchers()
			.get(0);
	}

	/** The committed offsets of the test's group on all partitions of a topic, summed. */
	static long committedTotal(String topic, int partitions) {
		List<TopicPartition> all = new ArrayList<>();
		for (int p = 0; p < partitions; p++) {
			all.add(new TopicPartition(topic, p));
		}
		return KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(), "group-" + topic, all)
			.values()
			.stream()
			.mapToLong(Long::longValue)
			.sum();
	}

	static long committed(String topic, int partition, String group) {
		TopicPartition tp = new TopicPartition(topic, partition);
		return KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(), group, List.of(tp))
			.getOrDefault(tp, -1L);
	}

	/** {@code records} records over {@code keys} keys, round robin, each key's values numbered from 0. */
	static void produce(String topic, int keys, int records, Value value) throws Exception {
		List<ProducerRecord<String, String>> all = new ArrayList<>(records);
		int[] next = new int[keys];
		for (int i = 0; i < records; i++) {
			int key = i % keys;
			all.add(new ProducerRecord<>(topic, "key-" + key, value.of("key-" + key, next[key]++)));
		}
		send(all);
	}

	static void send(List<ProducerRecord<String, String>> records) throws Exception {
		Map<String, Object> config = new HashMap<>();
		config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrapServers());
		config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
		config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
		config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
		// test data on a brand-new topic: the embedded broker's first moments trip the idempotent producer
		// (OutOfOrderSequenceException); one request in flight keeps each partition's order without it
		config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
		config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
		try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
			List<Future<?>> sent = new ArrayList<>(records.size());
			records.forEach((record) -> sent.add(producer.send(record)));
			for (Future<?> future : sent) {
				future.get(60, TimeUnit.SECONDS);
			}
		}
	}

}
