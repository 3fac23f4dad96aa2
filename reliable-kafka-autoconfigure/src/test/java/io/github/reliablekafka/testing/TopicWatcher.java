package io.github.reliablekafka.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic from its beginning while a test runs, and waits for message ids to arrive. Keeps every record
 * read, in partition and offset order per partition, so that duplicates and reorders can be counted.
 */
public final class TopicWatcher implements AutoCloseable {

	private final KafkaConsumer<String, byte[]> consumer;

	private final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();

	private final Set<String> seen = new HashSet<>();

	private TopicWatcher(String bootstrapServers, String topic) {
		Map<String, Object> config = new HashMap<>();
		config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
		config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
		config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
		config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
		this.consumer = new KafkaConsumer<>(config);
		List<TopicPartition> partitions = this.consumer.partitionsFor(topic, Duration.ofSeconds(30))
			.stream()
			.map((info) -> new TopicPartition(topic, info.partition()))
			.toList();
		this.consumer.assign(partitions);
		this.consumer.seekToBeginning(partitions);
	}

	/**
	 * Start reading a topic from its beginning.
	 * @param bootstrapServers where
	 * @param topic the topic, which must exist
	 * @return the watcher
	 */
	public static TopicWatcher watch(String bootstrapServers, String topic) {
		return new TopicWatcher(bootstrapServers, topic);
	}

	/**
	 * Read until every id has arrived.
	 * @param ids the {@code rk-id}s to wait for
	 * @param timeout how long to wait
	 * @return every record read so far
	 * @throws AssertionError naming how many ids are missing when the time is up
	 */
	public List<ConsumerRecord<String, byte[]>> awaitIds(Collection<String> ids, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!this.seen.containsAll(ids)) {
			if (System.nanoTime() > deadline) {
				long missing = ids.stream().filter((id) -> !this.seen.contains(id)).count();
				throw new AssertionError(missing + " of " + ids.size() + " messages did not arrive within " + timeout);
			}
			pollOnce();
		}
		return records();
	}

	/**
	 * Keep reading for a while, to catch late duplicates or records that must not come.
	 * @param duration how long
	 * @return every record read so far
	 */
	public List<ConsumerRecord<String, byte[]>> readFor(Duration duration) {
		long deadline = System.nanoTime() + duration.toNanos();
		while (System.nanoTime() < deadline) {
			pollOnce();
		}
		return records();
	}

	public List<ConsumerRecord<String, byte[]>> records() {
		return List.copyOf(this.records);
	}

	public Set<String> ids() {
		return Set.copyOf(this.seen);
	}

	private void pollOnce() {
		for (ConsumerRecord<String, byte[]> record : this.consumer.poll(Duration.ofMillis(100))) {
			this.records.add(record);
			String id = RkHeaders.id(record.headers());
			if (id != null) {
				this.seen.add(id);
			}
		}
	}

	@Override
	public void close() {
		this.consumer.close(Duration.ofSeconds(5));
	}

}
