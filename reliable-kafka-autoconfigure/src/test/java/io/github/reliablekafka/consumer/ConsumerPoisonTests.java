package io.github.reliablekafka.consumer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.ForkedKafka;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TopicWatcher;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.support.KafkaHeaders;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Poison never blocks a partition, and a record is never both undelivered and committed.
 */
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class ConsumerPoisonTests {

	/** Processing time of each good record, by topic-partition@offset. */
	static final Map<String, Long> processedAt = new ConcurrentHashMap<>();

	static final Set<String> processedIds = ConcurrentHashMap.newKeySet();

	static final Set<String> keyOrderedProcessedIds = ConcurrentHashMap.newKeySet();

	/** First attempt time of each failing record, by topic-partition@offset. */
	static final Map<String, Long> firstAttemptAt = new ConcurrentHashMap<>();

	@BeforeEach
	void clear() {
		processedAt.clear();
		processedIds.clear();
		keyOrderedProcessedIds.clear();
		firstAttemptAt.clear();
	}

	@Test
	void poisonGoesToTheDeadLetterTopicAndTheRecordsBehindItFlow() throws Exception {
		String topic = KafkaTestSupport.newTopic("consumer-poison", 3);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 3, 1);
		Set<String> good = new HashSet<>();
		Map<String, String> bad = new HashMap<>();
		try (KafkaProducer<String, byte[]> producer = producer(KafkaTestSupport.bootstrapServers())) {
			for (int i = 0; i < 10_000; i++) {
				String key = "k" + (i % 30);
				good.add(send(producer, topic, key, ("{\"orderId\":\"o-" + i + "\",\"amount\":" + i + "}").getBytes()));
				if (i % 50 == 25) {
					switch ((i / 50) % 4) {
						case 0 -> bad.put(send(producer, topic, key, "{\"orderId\": \"o\", \"amou".getBytes()), "malformed");
						case 1 -> bad.put(send(producer, topic, key, "{\"orderId\":\"o\",\"amount\":\"x\"}".getBytes()), "wrong type");
						case 2 -> bad.put(send(producer, topic, key, null), "null");
						default -> bad.put(send(producer, topic, key,
								("{\"orderId\":\"" + "x".repeat(20_000) + "\",\"amount\":1}").getBytes()), "oversized");
					}
				}
				if (i % 100 == 75) {
					bad.put(send(producer, topic, key, ("{\"orderId\":\"fail-" + i + "\",\"amount\":1}").getBytes()),
							"handler fails");
				}
			}
		}
		try (ConfigurableApplicationContext context = ConsumerTestApplication.start(KafkaTestSupport.bootstrapServers(),
				List.of(PoisonListener.class), "test.topic=" + topic, "reliable.kafka.consumer.null-payload=dead-letter")) {
			await().atMost(Duration.ofMinutes(3)).until(() -> processedIds.containsAll(good));
			try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
				List<ConsumerRecord<String, byte[]>> dead = deadLetters.awaitIds(bad.keySet(), Duration.ofSeconds(60));
				assertThat(dead).allSatisfy((record) -> {
					assertThat(RkHeaders.text(record.headers(), KafkaHeaders.DLT_EXCEPTION_FQCN)).isNotBlank();
					assertThat(RkHeaders.text(record.headers(), KafkaHeaders.DLT_EXCEPTION_MESSAGE)).isNotBlank();
					assertThat(RkHeaders.text(record.headers(), KafkaHeaders.DLT_ORIGINAL_OFFSET)).isNotNull();
				});
				long worstHoldUpMillis = 0;
				for (Map.Entry<String, Long> failing : firstAttemptAt.entrySet()) {
					String[] position = failing.getKey().split("@");
					String next = position[0] + "@" + (Long.parseLong(position[1]) + 1);
					Long nextProcessed = processedAt.get(next);
					if (nextProcessed != null) {
						worstHoldUpMillis = Math.max(worstHoldUpMillis, nextProcessed - failing.getValue());
					}
				}
				long goodInDeadLetters = dead.stream().filter((record) -> good.contains(RkHeaders.id(record.headers()))).count();
				System.out.printf("poison mix: good=%d processed=%d bad=%d dead-lettered=%d good in DLT=%d; the record "
						+ "behind a failing one waited at most %d ms (3 attempts with waits of 50 and 100 ms, the re-fetch "
						+ "after each failure, and the dead-letter publish)%n", good.size(),
						processedIds.stream().filter(good::contains).count(), bad.size(), dead.size(), goodInDeadLetters,
						worstHoldUpMillis);
				assertThat(goodInDeadLetters).isZero();
				assertThat(worstHoldUpMillis).isLessThan(2_000);
			}
		}
	}

	/**
	 * An 800 KB malformed record and a record just under the broker's limit that fails: both reach the dead-letter
	 * topic (the first with exception headers cut to their bounds, the second without its value, naming where it is),
	 * and the records behind them are processed, with PARTITION and KEY ordering. Before, the malformed record's dead
	 * letter was 1,064,477 bytes (the parser's message quoted the input three times), could never be published, and
	 * the partition stopped for good.
	 */
	@Test
	void anOversizedMalformedRecordReachesTheDeadLetterTopicAndThePartitionMovesOn() throws Exception {
		String topic = KafkaTestSupport.newTopic("consumer-oversized", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		String malformed;
		String tooLarge;
		int largeSize;
		List<String> good = new ArrayList<>();
		Map<String, Object> large = Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2_000_000);
		try (KafkaProducer<String, byte[]> producer = producer(KafkaTestSupport.bootstrapServers(), large)) {
			good.add(send(producer, topic, "k", "{\"orderId\":\"o-1\",\"amount\":1}".getBytes()));
			malformed = send(producer, topic, "k",
					("{\"orderId\":\"" + "s3cr3t".repeat(800_000 / 6) + "\",\"amount\":").getBytes());
			good.add(send(producer, topic, "k", "{\"orderId\":\"o-2\",\"amount\":2}".getBytes()));
			byte[] largeValue = ("{\"orderId\":\"fail-" + "x".repeat(1_046_000) + "\",\"amount\":1}").getBytes();
			largeSize = largeValue.length;
			tooLarge = send(producer, topic, "j", largeValue);
			good.add(send(producer, topic, "j", "{\"orderId\":\"o-3\",\"amount\":3}".getBytes()));
		}
		try (ConfigurableApplicationContext context = ConsumerTestApplication.start(KafkaTestSupport.bootstrapServers(),
				List.of(PoisonListener.class, KeyOrderedPoisonListener.class), "test.topic=" + topic,
				"test.group=oversized-partition", "spring.kafka.consumer.properties[max.partition.fetch.bytes]=2000000")) {
			await().atMost(Duration.ofMinutes(2)).until(() -> processedIds.containsAll(good)
					&& keyOrderedProcessedIds.containsAll(good));
			try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
				deadLetters.awaitIds(Set.of(malformed, tooLarge), Duration.ofSeconds(60));
				await().atMost(Duration.ofSeconds(60)).until(() -> deadLetters.readFor(Duration.ofMillis(200)).size() >= 4);
				List<ConsumerRecord<String, byte[]>> dead = deadLetters.records();
				long largestHeaders = 0;
				for (ConsumerRecord<String, byte[]> record : dead) {
					int message = record.headers().lastHeader(KafkaHeaders.DLT_EXCEPTION_MESSAGE).value().length;
					int trace = record.headers().lastHeader(KafkaHeaders.DLT_EXCEPTION_STACKTRACE).value().length;
					largestHeaders = Math.max(largestHeaders, message + trace);
					assertThat(message).as("exception message header").isLessThanOrEqualTo(4_096);
					assertThat(trace).as("stack trace header").isLessThanOrEqualTo(16_384);
					assertThat(new String(record.headers().lastHeader(KafkaHeaders.DLT_EXCEPTION_MESSAGE).value(),
							StandardCharsets.UTF_8)).doesNotContain("s3cr3t");
				}
				List<ConsumerRecord<String, byte[]>> omitted = dead.stream()
					.filter((record) -> tooLarge.equals(RkHeaders.id(record.headers())))
					.toList();
				List<ConsumerRecord<String, byte[]>> malformedLetters = dead.stream()
					.filter((record) -> malformed.equals(RkHeaders.id(record.headers())))
					.toList();
				System.out.printf("oversized poison: %d dead letters (2 records x 2 groups), largest exception headers "
						+ "%d bytes, malformed value kept (%d bytes), the large one's value omitted: %s; good records "
						+ "processed: %d of %d (PARTITION), %d of %d (KEY)%n", dead.size(), largestHeaders,
						malformedLetters.get(0).value().length,
						RkHeaders.text(omitted.get(0).headers(), BoundedDeadLetterRecoverer.VALUE_OMITTED),
						good.stream().filter(processedIds::contains).count(), good.size(),
						good.stream().filter(keyOrderedProcessedIds::contains).count(), good.size());
				assertThat(malformedLetters).hasSize(2).allSatisfy((record) -> assertThat(record.value().length)
					.as("the malformed value, kept").isGreaterThan(800_000));
				assertThat(omitted).hasSize(2).allSatisfy((record) -> {
					assertThat(record.value()).as("published without its value").isEmpty();
					assertThat(RkHeaders.text(record.headers(), BoundedDeadLetterRecoverer.VALUE_OMITTED))
						.isEqualTo(Integer.toString(largeSize));
					assertThat(RkHeaders.text(record.headers(), BoundedDeadLetterRecoverer.ORIGIN))
						.isEqualTo(topic + "-0@3");
				});
			}
		}
	}

	@Test
	void aDeadLetteredRecordsValueIsLoggedOnlyWhenTheApplicationAsksForIt(
			org.springframework.boot.test.system.CapturedOutput output) throws Exception {
		String topic = KafkaTestSupport.newTopic("consumer-log-payload", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 1, 1);
		String bad;
		try (KafkaProducer<String, byte[]> producer = producer(KafkaTestSupport.bootstrapServers())) {
			bad = send(producer, topic, "k", "{\"orderId\": \"visible-when-asked".getBytes());
		}
		try (ConfigurableApplicationContext context = ConsumerTestApplication.start(KafkaTestSupport.bootstrapServers(),
				List.of(PoisonListener.class), "test.topic=" + topic, "test.group=log-payload-" + topic,
				"reliable.kafka.consumer.dead-letter.log-payload=true");
				TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT")) {
			deadLetters.awaitIds(Set.of(bad), Duration.ofSeconds(30));
			await().atMost(Duration.ofSeconds(5))
				.until(() -> output.toString().contains("value starts {\"orderId\": \"visible-when-asked"));
		}
	}

	@Test
	void aDeadLetterThatCannotBeWrittenLeavesTheRecordUncommittedAndRetried() throws Exception {
		try (ForkedKafka kafka = ForkedKafka.start(1, Map.of("auto.create.topics.enable", "false"))) {
			String topic = KafkaTestSupport.uniqueTopic("consumer-dlt-missing");
			kafka.createTopic(topic, 1, 1, Map.of());
			String badId;
			String goodId;
			try (KafkaProducer<String, byte[]> producer = producer(kafka.bootstrapServers())) {
				badId = send(producer, topic, "k", "{\"orderId\":\"fail-1\",\"amount\":1}".getBytes());
				goodId = send(producer, topic, "k", "{\"orderId\":\"o-2\",\"amount\":2}".getBytes());
			}
			String group = "group-" + topic;
			try (ConfigurableApplicationContext context = ConsumerTestApplication.start(kafka.bootstrapServers(),
					List.of(PoisonListener.class), "test.topic=" + topic, "test.group=" + group,
					"spring.kafka.producer.properties[max.block.ms]=1000", "reliable.kafka.consumer.retry.max-attempts=2")) {
				Thread.sleep(8_000);
				long committed = committed(kafka, topic, group);
				System.out.printf("dead-letter topic missing for 8 s: committed offset %d, good record processed: %s%n",
						committed, processedIds.contains(goodId));
				assertThat(committed).as("the failing record is not committed").isZero();
				assertThat(processedIds).doesNotContain(goodId);
				kafka.createTopic(topic + ".DLT", 1, 1, Map.of());
				await().atMost(Duration.ofSeconds(60)).until(() -> processedIds.contains(goodId));
				try (TopicWatcher deadLetters = TopicWatcher.watch(kafka.bootstrapServers(), topic + ".DLT")) {
					deadLetters.awaitIds(Set.of(badId), Duration.ofSeconds(30));
				}
				await().atMost(Duration.ofSeconds(30)).until(() -> committed(kafka, topic, group) == 2);
			}
		}
	}

	private static long committed(ForkedKafka kafka, String topic, String group) {
		return KafkaTestSupport.committedOffsets(kafka.bootstrapServers(), group, List.of(new TopicPartition(topic, 0)))
			.getOrDefault(new TopicPartition(topic, 0), 0L);
	}

	private static KafkaProducer<String, byte[]> producer(String bootstrapServers) {
		return producer(bootstrapServers, Map.of());
	}

	private static KafkaProducer<String, byte[]> producer(String bootstrapServers, Map<String, Object> more) {
		Map<String, Object> config = new HashMap<>(more);
		config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
		config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
		config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
		return new KafkaProducer<>(config);
	}

	private static String send(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value) {
		String id = MessageIds.next();
		RecordHeaders headers = new RecordHeaders();
		RkHeaders.set(headers, RkHeaders.ID, id);
		producer.send(new ProducerRecord<>(topic, null, key, value, headers)); // closing the producer flushes
		return id;
	}

	record Order(String orderId, long amount) {
	}

	@Configuration(proxyBeanMethods = false)
	static class KeyOrderedPoisonListener {

		@Bean
		KeyOrderedPoisonBean keyOrderedPoisonBean() {
			return new KeyOrderedPoisonBean();
		}

	}

	public static class KeyOrderedPoisonBean {

		@ReliableListener(id = "poison-key-ordered", topics = "${test.topic}", groupId = "poison-key-ordered",
				ordering = io.github.reliablekafka.dispatch.Ordering.KEY, workers = 4)
		public void on(Order order, ConsumerRecord<String, byte[]> record) {
			if (order.orderId().startsWith("fail-")) {
				throw new IllegalStateException("handler fails on a record of " + record.value().length + " bytes");
			}
			keyOrderedProcessedIds.add(RkHeaders.id(record.headers()));
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class PoisonListener {

		@Bean
		PoisonBean poisonBean() {
			return new PoisonBean();
		}

	}

	public static class PoisonBean {

		@ReliableListener(id = "poison-mix", topics = "${test.topic}", groupId = "${test.group:poison-mix}")
		public void on(Order order, ConsumerRecord<String, byte[]> record) {
			String position = record.topic() + "-" + record.partition() + "@" + record.offset();
			if (order.orderId().length() > 10_000) {
				throw new NonRetryableException("orderId longer than 10000 characters");
			}
			if (order.orderId().startsWith("fail-")) {
				firstAttemptAt.putIfAbsent(position, System.currentTimeMillis());
				throw new IllegalStateException("handler fails on " + order.orderId());
			}
			processedAt.put(position, System.currentTimeMillis());
			processedIds.add(new String(record.headers().lastHeader(RkHeaders.ID).value(), StandardCharsets.UTF_8));
		}

	}

}
