package io.github.reliablekafka.consumer;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.github.reliablekafka.testing.ChildJvm;
import io.github.reliablekafka.testing.KafkaTestSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
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
		Map<String, Position> sent = produceWithPositions(topic, 5_000, (i) -> "v" + i);
		String group = "term-" + topic;
		List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
		List<String> processed = new ArrayList<>();
		try (ChildJvm consumer = consumer(topic, group, 500)) {
			consumer.awaitLine((line) -> countProcessed(consumer) >= 1_000, Duration.ofSeconds(90));
			assertThat(consumer.terminate(Duration.ofSeconds(60))).isIn(0, 143);
			// from its log file, complete once it exited, not from what was read of it so far
			processed.addAll(processedIds(Files.readAllLines(consumer.logFile())));
		}
		int beforeRestart = processed.size();
		// a graceful stop commits exactly what its listener finished: no record below a committed offset unprocessed,
		// none at or above it processed
		Map<TopicPartition, Long> committed = KafkaTestSupport.committedOffsets(KafkaTestSupport.bootstrapServers(),
				group, partitions);
		Set<String> done = Set.copyOf(processed);
		long committedUnprocessed = sent.entrySet()
			.stream()
			.filter((entry) -> entry.getValue().offset() < committed.getOrDefault(entry.getValue().partition(), 0L))
			.filter((entry) -> !done.contains(entry.getKey()))
			.count();
		long processedUncommitted = processed.stream()
			.map(sent::get)
			.filter((position) -> position.offset() >= committed.getOrDefault(position.partition(), 0L))
			.count();
		System.out.printf("gracefulShutdownRedeliversNothing: after SIGTERM, committed %s; committed but not processed=%d, "
				+ "processed but not committed=%d%n", committed, committedUnprocessed, processedUncommitted);
		try (ChildJvm consumer = consumer(topic, group, 0)) {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
			while (processedIds(consumer).size() + beforeRestart < sent.size() && System.nanoTime() < deadline) {
				Thread.sleep(200);
			}
			Thread.sleep(1_000); // a redelivery would arrive right away
			List<String> restarted = processedIds(consumer);
			if (restarted.size() + beforeRestart < sent.size()) {
				System.out.printf("gracefulShutdownRedeliversNothing: the restarted consumer (%s) finished %d; its threads: "
						+ "%s%n", consumer.logFile(), restarted.size(), consumer.dumpThreads());
			}
			processed.addAll(restarted);
		}
		long duplicates = processed.size() - Set.copyOf(processed).size();
		Set<String> all = Set.copyOf(processed);
		List<Position> missing = sent.entrySet()
			.stream()
			.filter((entry) -> !all.contains(entry.getKey()))
			.map(Map.Entry::getValue)
			.sorted()
			.toList();
		System.out.printf("gracefulShutdownRedeliversNothing: sent=%d processed before SIGTERM=%d after restart=%d "
				+ "duplicates=%d lost=%d%s%n", sent.size(), beforeRestart, processed.size() - beforeRestart, duplicates,
				missing.size(), missing.isEmpty() ? ""
						: " (" + Position.ranges(missing) + "; committed at the end: " + KafkaTestSupport
							.committedOffsets(KafkaTestSupport.bootstrapServers(), group, partitions) + ")");
		assertThat(committedUnprocessed).isZero();
		assertThat(processedUncommitted).isZero();
		assertThat(duplicates).isZero();
		assertThat(missing).isEmpty();
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
		return processedIds(consumer.lines());
	}

	private static List<String> processedIds(List<String> lines) {
		return lines.stream()
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

	/**
	 * Send {@code count} records, each with a new {@code rk-id}, over 50 keys, and tell where Kafka wrote each.
	 * @return the positions by {@code rk-id}, in the order sent
	 */
	static Map<String, Position> produceWithPositions(String topic, int count, java.util.function.IntFunction<String> value)
			throws Exception {
		Map<String, Object> config = new HashMap<>();
		config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrapServers());
		config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
		config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
		Map<String, Future<RecordMetadata>> futures = new LinkedHashMap<>();
		try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config)) {
			for (int i = 0; i < count; i++) {
				String id = MessageIds.next();
				RecordHeaders headers = new RecordHeaders();
				RkHeaders.set(headers, RkHeaders.ID, id);
				futures.put(id, producer.send(new ProducerRecord<>(topic, null, "k" + (i % 50), value.apply(i).getBytes(),
						headers)));
			}
			producer.flush();
		}
		Map<String, Position> positions = new LinkedHashMap<>();
		for (Map.Entry<String, Future<RecordMetadata>> entry : futures.entrySet()) {
			RecordMetadata metadata = entry.getValue().get();
			positions.put(entry.getKey(),
					new Position(new TopicPartition(metadata.topic(), metadata.partition()), metadata.offset()));
		}
		return positions;
	}

	/** Where a record was written. */
	record Position(TopicPartition partition, long offset) implements Comparable<Position> {

		@Override
		public int compareTo(Position other) {
			int byPartition = Integer.compare(this.partition.partition(), other.partition.partition());
			return (byPartition != 0) ? byPartition : Long.compare(this.offset, other.offset);
		}

		/** The positions as runs of consecutive offsets, such as {@code p0@100-183, p1@7}. */
		static String ranges(List<Position> sorted) {
			StringBuilder ranges = new StringBuilder();
			int i = 0;
			while (i < sorted.size()) {
				int j = i;
				while (j + 1 < sorted.size() && sorted.get(j + 1).partition.equals(sorted.get(i).partition)
						&& sorted.get(j + 1).offset == sorted.get(j).offset + 1) {
					j++;
				}
				ranges.append((ranges.length() > 0) ? ", " : "").append('p').append(sorted.get(i).partition.partition())
					.append('@').append(sorted.get(i).offset);
				if (j > i) {
					ranges.append('-').append(sorted.get(j).offset);
				}
				i = j + 1;
			}
			return ranges.toString();
		}

	}

	static List<String> produce(String topic, int count, java.util.function.IntFunction<String> value) throws Exception {
		return List.copyOf(produceWithPositions(topic, count, value).keySet());
	}

}
