package io.github.reliablekafka.consumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.support.RkHeaders;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The consumer's commit discipline, proven on a consumer application in a child JVM that is killed with SIGKILL
 * or stopped with SIGTERM.
 */
class ConsumerCrashTests {

	@Test
	void commitHappensOnlyAfterTheListenerReturns() throws Exception {
		String topic = KafkaTestSupport.newTopic("consumer-commit", 1);
		List<String> ids = produce(topic, 10, (i) -> (i == 5) ? "hang" : "work-" + i);
		String group = "commit-" + topic;
		try (ChildJvm consumer = consumer(topic, group, 0)) {
			consumer.awaitLine("HANG " + ids.get(5), Duration.ofSeconds(60));
			consumer.kill();
		}
		Map<TopicPartition, Long> committed = KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(),
				group, List.of(new TopicPartition(topic, 0)));
		System.out.printf("killed inside the listener at offset 5; committed offset: %s%n", committed);
		assertThat(committed.getOrDefault(new TopicPartition(topic, 0), 0L)).isLessThanOrEqualTo(5L);
		try (ChildJvm consumer = consumer(topic, group, 0)) {
			consumer.awaitLine("HANG " + ids.get(5), Duration.ofSeconds(60));
			System.out.println("the record being processed when the consumer died was delivered again: 0 lost");
		}
	}

	@Test
	void noRecordIsLostWhenTheConsumerIsKilledThreeTimes() throws Exception {
		String topic = KafkaTestSupport.newTopic("consumer-kill", 3);
		List<String> ids = produce(topic, 10_000, (i) -> "v" + i);
		String group = "kill-" + topic;
		List<String> processed = new ArrayList<>();
		for (int kill = 1; kill <= 3; kill++) {
			try (ChildJvm consumer = consumer(topic, group, 200)) {
				int target = processed.size() + ThreadLocalRandom.current().nextInt(800, 2_500);
				consumer.awaitLine((line) -> countProcessed(consumer) + processed.size() >= target, Duration.ofSeconds(90));
				consumer.kill();
				processed.addAll(processedIds(consumer));
				System.out.printf("kill %d after %d records processed in all%n", kill, processed.size());
			}
		}
		try (ChildJvm consumer = consumer(topic, group, 200)) {
			Set<String> seen = Set.copyOf(processed);
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
			while (!processedIdsUnion(seen, consumer).containsAll(ids) && System.nanoTime() < deadline) {
				Thread.sleep(200);
			}
			processed.addAll(processedIds(consumer));
		}
		Map<String, Long> counts = processed.stream().collect(Collectors.groupingBy((id) -> id, Collectors.counting()));
		long lost = ids.stream().filter((id) -> !counts.containsKey(id)).count();
		long duplicates = processed.size() - counts.size();
		System.out.printf("noRecordIsLostWhenTheConsumerIsKilledThreeTimes: sent=%d processed=%d lost=%d duplicates=%d%n",
				ids.size(), processed.size(), lost, duplicates);
		assertThat(lost).isZero();
	}

	@Test
	void gracefulShutdownRedeliversNothing() throws Exception {
		String topic = KafkaTestSupport.newTopic("consumer-term", 2);
		List<String> ids = produce(topic, 5_000, (i) -> "v" + i);
		String group = "term-" + topic;
		List<String> processed = new ArrayList<>();
		try (ChildJvm consumer = consumer(topic, group, 500)) {
			consumer.awaitLine((line) -> countProcessed(consumer) >= 1_000, Duration.ofSeconds(90));
			assertThat(consumer.terminate(Duration.ofSeconds(60))).isIn(0, 143);
			processed.addAll(processedIds(consumer));
		}
		int beforeRestart = processed.size();
		try (ChildJvm consumer = consumer(topic, group, 0)) {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
			while (processedIds(consumer).size() + beforeRestart < ids.size() && System.nanoTime() < deadline) {
				Thread.sleep(200);
			}
			Thread.sleep(1_000); // a redelivery would arrive right away
			processed.addAll(processedIds(consumer));
		}
		long duplicates = processed.size() - Set.copyOf(processed).size();
		long lost = ids.stream().filter((id) -> !processed.contains(id)).count();
		System.out.printf("gracefulShutdownRedeliversNothing: sent=%d processed before SIGTERM=%d after restart=%d "
				+ "duplicates=%d lost=%d%n", ids.size(), beforeRestart, processed.size() - beforeRestart, duplicates, lost);
		assertThat(duplicates).isZero();
		assertThat(lost).isZero();
	}

	private static ChildJvm consumer(String topic, String group, long workMicros) {
		ChildJvm child = ChildJvm.of(CrashingConsumerApplication.class.getName())
			.args(KafkaTestSupport.bootstrapServers(), topic, group, String.valueOf(workMicros))
			.start();
		child.awaitLine("STARTED", Duration.ofSeconds(60));
		return child;
	}

	private static long countProcessed(ChildJvm consumer) {
		return consumer.lines().stream().filter((line) -> line.startsWith("PROCESSED ")).count();
	}

	private static List<String> processedIds(ChildJvm consumer) {
		return consumer.lines()
			.stream()
			.filter((line) -> line.startsWith("PROCESSED "))
			.map((line) -> line.substring("PROCESSED ".length()))
			.filter((id) -> id.length() == 36)
			.toList();
	}

	private static Set<String> processedIdsUnion(Set<String> before, ChildJvm consumer) {
		Set<String> all = new java.util.HashSet<>(before);
		all.addAll(processedIds(consumer));
		return all;
	}

	static List<String> produce(String topic, int count, java.util.function.IntFunction<String> value) throws Exception {
		Map<String, Object> config = new HashMap<>();
		config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrapServers());
		config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
		config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
		List<String> ids = new ArrayList<>();
		try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config)) {
			for (int i = 0; i < count; i++) {
				String id = MessageIds.next();
				RecordHeaders headers = new RecordHeaders();
				RkHeaders.set(headers, RkHeaders.ID, id);
				producer.send(new ProducerRecord<>(topic, null, "k" + (i % 50), value.apply(i).getBytes(), headers));
				ids.add(id);
			}
			producer.flush();
		}
		return ids;
	}

}
