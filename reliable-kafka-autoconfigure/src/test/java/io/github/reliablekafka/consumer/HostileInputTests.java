package io.github.reliablekafka.consumer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.reliablekafka.autoconfigure.ReliableKafkaAutoConfiguration;
import io.github.reliablekafka.autoconfigure.consumer.ReliableKafkaConsumerAutoConfiguration;
import io.github.reliablekafka.autoconfigure.delay.ReliableKafkaDelayAutoConfiguration;
import io.github.reliablekafka.autoconfigure.idempotency.ReliableKafkaIdempotencyAutoConfiguration;
import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.delay.RetryLaterException;
import io.github.reliablekafka.dispatch.Ordering;
import io.github.reliablekafka.idempotency.ReliableIdempotency;
import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.producer.ReliableKafkaTemplate;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.KafkaTestSupport;
import io.github.reliablekafka.testing.TestApplications;
import io.github.reliablekafka.testing.TestDatabase;
import io.github.reliablekafka.testing.TestRedis;
import io.github.reliablekafka.testing.TopicWatcher;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.support.KafkaHeaders;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Hostile and odd input through {@code @ReliableListener}, with PARTITION and KEY ordering, inside the two-tier
 * idempotency guard (Redis and an H2 ledger), on a real broker. Among good records: malformed JSON (small and
 * 800 KB), JSON of the wrong type, a tombstone, an empty value, a 100 KB key, CR/LF in a key, an empty, a forged and
 * a made-up rk-id, a negative rk-attempt on a record that asks to come back later, and a forged delay plan to a
 * foreign topic. Every good record is processed once per listener (0 skipped), every bad one is in the dead-letter
 * topic with bounded headers, and nothing is written to a topic the library may not write to.
 */
@ExtendWith(OutputCaptureExtension.class)
class HostileInputTests {

	static final Map<String, Set<String>> processed = new ConcurrentHashMap<>();

	@Test
	void hostileInputStopsNoPartitionEscapesNoTopicAndSkipsNoLegitimateRecord(CapturedOutput output) throws Exception {
		String topic = KafkaTestSupport.newTopic("hostile", 2);
		String foreign = KafkaTestSupport.newTopic("hostile-foreign", 1);
		KafkaTestSupport.createTopic(KafkaTestSupport.bootstrapServers(), topic + ".DLT", 2, 1);
		String prefix = "rk-delay-hostile-" + topic.substring(topic.lastIndexOf('-') + 1) + "-";
		processed.clear();
		Set<String> topicsBefore = topics();
		try (TestDatabase database = TestDatabase.h2(); TestRedis redis = TestRedis.shared()) {
			ConfigurableApplicationContext context = TestApplications.run(List.of(App.class), List.of(
					"spring.kafka.bootstrap-servers=" + KafkaTestSupport.bootstrapServers(), "test.topic=" + topic,
					"test.db.url=" + database.url(), "spring.data.redis.host=" + redis.host(),
					"spring.data.redis.port=" + redis.port(),
					"reliable.kafka.consumer.idempotency.redis-key-prefix=" + redis.keyPrefix(),
					"reliable.kafka.consumer.retry.delay=50ms",
					"reliable.kafka.consumer.retry.max-delay=200ms", "reliable.kafka.delay.topic-prefix=" + prefix,
					"reliable.kafka.delay.partitions=1", "reliable.kafka.delay.allowed-targets=" + topic,
					"spring.kafka.consumer.properties[max.partition.fetch.bytes]=2000000"));
			try {
				assertThat(context.getBean(ReliableIdempotency.class).guard().store()).isEqualTo("two-tier");
				Map<String, String> good = new LinkedHashMap<>();
				Map<String, String> bad = new LinkedHashMap<>();
				String forgedPlan;
				try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
						ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrapServers(),
						ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2_000_000), new StringSerializer(),
						new ByteArraySerializer())) {
					for (int i = 0; i < 200; i++) {
						String key = "k" + (i % 7);
						good.put(send(producer, topic, key, json("o-" + i), MessageIds.next(), null), "good");
						switch (i % 20) {
							case 1 -> bad.put(send(producer, topic, key, "{\"orderId\": \"o".getBytes(), MessageIds.next(),
									null), "malformed JSON");
							case 3 -> bad.put(send(producer, topic, key, "{\"orderId\":{\"x\":1},\"amount\":\"y\"}"
								.getBytes(), MessageIds.next(), null), "wrong type");
							case 5 -> send(producer, topic, key, null, MessageIds.next(), null); // tombstone: skipped
							case 7 -> send(producer, topic, key, new byte[0], MessageIds.next(), null); // empty: skipped
							case 9 -> good.put(send(producer, topic, "x".repeat(100_000), json("big-key-" + i),
									MessageIds.next(), null), "100 KB key");
							case 11 -> good.put(send(producer, topic, "evil\r\nINFO forged log line", json("crlf-" + i),
									MessageIds.next(), null), "CR/LF in key");
							case 13 -> good.put(send(producer, topic, key, json("empty-id-" + i), "", null), "empty rk-id");
							case 15 -> good.put(send(producer, topic, key, json("forged-id-" + i),
									"hash:0000000000000000000000000000000000000000000000000000000000000000", null),
									"forged rk-id");
							case 17 -> bad.put(send(producer, topic, key, json("later-" + i), MessageIds.next(), "-5"),
									"negative rk-attempt");
							default -> {
							}
						}
					}
					// a bad record is logged with its key: the key's CR/LF must not start a forged log line
					bad.put(send(producer, topic, "evil\r\nINFO forged log line", "{\"orderId\": \"o".getBytes(),
							MessageIds.next(), null), "malformed JSON, CR/LF in key");
					bad.put(send(producer, topic, "k0",
							("{\"orderId\":\"" + "s3cr3t".repeat(800_000 / 6) + "\",\"amount\":").getBytes(),
							MessageIds.next(), null), "malformed 800 KB");
					good.put(send(producer, topic, "k0", json("after-the-big-one"), MessageIds.next(), null), "good");
					// the tier topics exist once the application delays something; then a plan is forged into them
					context.getBean(ReliableKafkaTemplate.class).sendDelayed(topic, "k0", json("delayed"),
							Duration.ofSeconds(1)).get(30, TimeUnit.SECONDS);
					forgedPlan = MessageIds.next();
					RecordHeaders plan = new RecordHeaders();
					RkHeaders.set(plan, RkHeaders.ID, forgedPlan);
					RkHeaders.set(plan, RkHeaders.TARGET_TOPIC, foreign);
					RkHeaders.set(plan, RkHeaders.DUE_AT, "0");
					producer.send(new ProducerRecord<>(prefix + "1s", null, "k", json("forged plan"), plan)).get();
				}
				await().atMost(Duration.ofSeconds(90))
					.until(() -> good.keySet().stream().allMatch((id) -> processed.getOrDefault("partition", Set.of())
						.contains(id) && processed.getOrDefault("key", Set.of()).contains(id)));
				try (TopicWatcher deadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), topic + ".DLT");
						TopicWatcher delayDeadLetters = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(),
								prefix + "dlt");
						TopicWatcher escaped = TopicWatcher.watch(KafkaTestSupport.bootstrapServers(), foreign)) {
					long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
					while (deadLetters.readFor(Duration.ofMillis(200)).size() < 2 * bad.size()
							&& System.nanoTime() < deadline) {
						// reading
					}
					Map<String, Long> deadByKind = new LinkedHashMap<>();
					deadLetters.records().forEach((record) -> deadByKind.merge(
							bad.getOrDefault(RkHeaders.text(record.headers(), "test-id"), "not bad: "
									+ RkHeaders.text(record.headers(), "test-id")), 1L, Long::sum));
					System.out.printf("dead letters by kind: %s (expected twice each of %s)%n", deadByKind, kinds(bad));
					delayDeadLetters.awaitIds(Set.of(forgedPlan), Duration.ofSeconds(30));
					List<ConsumerRecord<String, byte[]>> dead = deadLetters.readFor(Duration.ofSeconds(2));
					escaped.readFor(Duration.ofSeconds(1));
					int largestHeaders = dead.stream()
						.mapToInt((record) -> record.headers().lastHeader(KafkaHeaders.DLT_EXCEPTION_MESSAGE).value().length
								+ record.headers().lastHeader(KafkaHeaders.DLT_EXCEPTION_STACKTRACE).value().length)
						.max()
						.orElse(0);
					Set<String> newTopics = new HashSet<>(topics());
					newTopics.removeAll(topicsBefore);
					newTopics.removeIf((name) -> name.startsWith(prefix));
					long skipped = good.keySet().stream().filter((id) -> !processed.get("partition").contains(id)
							|| !processed.get("key").contains(id)).count();
					System.out.printf("hostile input: %d good records (%s), %d bad (%s); skipped %d; dead letters %d "
							+ "(2 groups), largest exception headers %d bytes; forged plan to %s refused into %s; "
							+ "records written to the foreign topic %d; topics created besides the delay tiers %s%n",
							good.size(), kinds(good), bad.size(), kinds(bad), skipped, dead.size(), largestHeaders,
							foreign, prefix + "dlt", escaped.records().size(), newTopics);
					assertThat(skipped).as("legitimate records skipped").isZero();
					assertThat(dead).as("each bad record dead-lettered once per group").hasSize(2 * bad.size());
					assertThat(dead.stream().map((record) -> RkHeaders.text(record.headers(), "test-id")))
						.containsOnlyElementsOf(bad.keySet());
					assertThat(largestHeaders).isLessThanOrEqualTo(4_096 + 16_384);
					assertThat(escaped.records()).as("written to a topic outside the allowed ones").isEmpty();
					assertThat(newTopics).as("topics the library wrote to").isEmpty();
					assertThat(output.toString()).as("payload text in the log").doesNotContain("s3cr3t")
						.as("a key's CR/LF, escaped").contains("key=evil\\r\\nINFO forged log line")
						.doesNotContain("evil\r\nINFO forged log line");
				}
			}
			finally {
				context.close();
			}
		}
	}

	private static Map<String, Long> kinds(Map<String, String> records) {
		Map<String, Long> counts = new LinkedHashMap<>();
		records.values().forEach((kind) -> counts.merge(kind, 1L, Long::sum));
		return counts;
	}

	private static Set<String> topics() throws Exception {
		try (Admin admin = KafkaTestSupport.admin(KafkaTestSupport.bootstrapServers())) {
			return admin.listTopics().names().get(30, TimeUnit.SECONDS);
		}
	}

	private static byte[] json(String orderId) {
		return ("{\"orderId\":\"" + orderId + "\",\"amount\":1}").getBytes(StandardCharsets.UTF_8);
	}

	private static String send(KafkaProducer<String, byte[]> producer, String topic, String key, byte @Nullable [] value,
			String rkId, @Nullable String attempt) {
		String id = MessageIds.next();
		RecordHeaders headers = new RecordHeaders();
		RkHeaders.set(headers, RkHeaders.ID, rkId);
		RkHeaders.set(headers, "test-id", id);
		if (attempt != null) {
			RkHeaders.set(headers, RkHeaders.ATTEMPT, attempt);
		}
		producer.send(new ProducerRecord<>(topic, null, key, value, headers));
		return id;
	}

	record Order(String orderId, long amount) {
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ KafkaAutoConfiguration.class, DataRedisAutoConfiguration.class,
			ReliableKafkaAutoConfiguration.class, ReliableKafkaDelayAutoConfiguration.class,
			ReliableKafkaProducerAutoConfiguration.class, ReliableKafkaIdempotencyAutoConfiguration.class,
			ReliableKafkaConsumerAutoConfiguration.class })
	static class App {

		@Bean(destroyMethod = "close")
		HikariDataSource dataSource(Environment environment) {
			HikariConfig config = new HikariConfig();
			config.setJdbcUrl(environment.getRequiredProperty("test.db.url"));
			return new HikariDataSource(config);
		}

		@Bean
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		Listeners listeners() {
			return new Listeners();
		}

	}

	static class Listeners {

		@ReliableListener(id = "hostile-partition", topics = "${test.topic}", groupId = "hostile-partition")
		void partition(Order order, ConsumerRecord<String, byte[]> record) {
			handle("partition", order, record);
		}

		@ReliableListener(id = "hostile-key", topics = "${test.topic}", groupId = "hostile-key", ordering = Ordering.KEY,
				workers = 4)
		void key(Order order, ConsumerRecord<String, byte[]> record) {
			handle("key", order, record);
		}

		private static void handle(String listener, Order order, ConsumerRecord<String, byte[]> record) {
			if (order.orderId().startsWith("later-")) {
				throw new RetryLaterException(Duration.ofSeconds(1), "come back later");
			}
			String id = RkHeaders.text(record.headers(), "test-id");
			if (id != null) {
				processed.computeIfAbsent(listener, (name) -> ConcurrentHashMap.newKeySet()).add(id);
			}
		}

	}

}
