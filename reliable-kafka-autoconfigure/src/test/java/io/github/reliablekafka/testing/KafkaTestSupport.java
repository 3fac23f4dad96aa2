package io.github.reliablekafka.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * Kafka for tests: one embedded KRaft broker shared by every test in the JVM (about 3 s to start once), unique
 * topic names so tests never see each other's records, and a reader that returns everything on a topic.
 */
public final class KafkaTestSupport {

	private static EmbeddedKafkaKraftBroker broker;

	private KafkaTestSupport() {
	}

	/**
	 * Return the shared single-node embedded broker, starting it on first use.
	 * @return the broker
	 */
	public static synchronized EmbeddedKafkaKraftBroker embeddedBroker() {
		if (broker == null) {
			EmbeddedKafkaKraftBroker started = new EmbeddedKafkaKraftBroker(1, 1);
			// by default it sets the system property spring.kafka.bootstrap-servers, which would override the
			// bootstrap servers of every later application context in this JVM (a forked broker's, say)
			started.brokerListProperty("rk.test.embedded.brokers");
			Map<String, String> config = new java.util.HashMap<>(Map.of("group.initial.rebalance.delay.ms", "0",
					"offsets.topic.num.partitions", "5", "transaction.state.log.replication.factor", "1",
					"transaction.state.log.min.isr", "1", "log.cleaner.dedupe.buffer.size", "8388608",
					"auto.create.topics.enable", "true"));
			// share groups: a one-node state topic, and locks and sessions short enough for crash tests to set
			config.putAll(Map.of("share.coordinator.state.topic.replication.factor", "1",
					"share.coordinator.state.topic.min.isr", "1", "share.coordinator.state.topic.num.partitions", "3",
					"group.share.min.record.lock.duration.ms", "1000", "group.share.min.session.timeout.ms", "3000",
					"group.share.session.timeout.ms", "6000", "group.share.min.heartbeat.interval.ms", "500",
					"group.share.heartbeat.interval.ms", "1000"));
			started.brokerProperties(config);
			started.afterPropertiesSet();
			Runtime.getRuntime().addShutdownHook(new Thread(started::destroy, "embedded-kafka-shutdown"));
			broker = started;
		}
		return broker;
	}

	/**
	 * Return the bootstrap servers of the shared embedded broker.
	 * @return host:port
	 */
	public static String bootstrapServers() {
		return embeddedBroker().getBrokersAsString();
	}

	/**
	 * Return a topic name no other test uses.
	 * @param prefix a readable prefix
	 * @return the name
	 */
	public static String uniqueTopic(String prefix) {
		return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
	}

	/**
	 * Create a topic and wait for its leaders.
	 * @param bootstrapServers where
	 * @param name the topic
	 * @param partitions the partition count
	 * @param replicationFactor the replication factor
	 */
	public static void createTopic(String bootstrapServers, String name, int partitions, int replicationFactor) {
		try (Admin admin = admin(bootstrapServers)) {
			admin.createTopics(List.of(new NewTopic(name, partitions, (short) replicationFactor)))
				.all()
				.get(30, TimeUnit.SECONDS);
			awaitLeaders(admin, name, partitions, Duration.ofSeconds(30));
		}
		catch (Exception ex) {
			throw new IllegalStateException("Cannot create topic " + name, ex);
		}
	}

	/**
	 * Create a topic on the shared embedded broker.
	 * @param prefix a readable prefix for a unique name
	 * @param partitions the partition count
	 * @return the topic name
	 */
	public static String newTopic(String prefix, int partitions) {
		String topic = uniqueTopic(prefix);
		createTopic(bootstrapServers(), topic, partitions, 1);
		return topic;
	}

	public static Admin admin(String bootstrapServers) {
		return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
				AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
	}

	public static void awaitLeaders(Admin admin, String topic, int partitions, Duration timeout) throws Exception {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (System.nanoTime() < deadline) {
			try {
				TopicDescription description = admin.describeTopics(List.of(topic))
					.allTopicNames()
					.get(5, TimeUnit.SECONDS)
					.get(topic);
				if (description.partitions().size() == partitions
						&& description.partitions().stream().map(TopicPartitionInfo::leader).allMatch((l) -> l != null && l.id() >= 0)) {
					return;
				}
			}
			catch (Exception ex) {
				// metadata not propagated yet
			}
			Thread.sleep(100);
		}
		throw new IllegalStateException("Topic " + topic + " has no leader for every partition after " + timeout);
	}

	/**
	 * Read every record of a topic, from the beginning up to the end offsets seen when the read starts.
	 * @param bootstrapServers where
	 * @param topic the topic
	 * @param timeout how long to try
	 * @return the records in partition and offset order
	 */
	public static List<ConsumerRecord<String, byte[]>> readAll(String bootstrapServers, String topic,
			Duration timeout) {
		Map<String, Object> config = new HashMap<>();
		config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
		config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
		config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
		config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
		config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
		long deadline = System.nanoTime() + timeout.toNanos();
		try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
			List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout)
				.stream()
				.map((info) -> new TopicPartition(topic, info.partition()))
				.collect(Collectors.toList());
			consumer.assign(partitions);
			consumer.seekToBeginning(partitions);
			Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
			Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> byPartition = new HashMap<>();
			while (!reachedEnd(consumer, end)) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("Could not read " + topic + " to its end within " + timeout);
				}
				for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
					byPartition.computeIfAbsent(new TopicPartition(topic, record.partition()), (p) -> new ArrayList<>())
						.add(record);
				}
			}
			List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
			partitions.forEach((partition) -> all.addAll(byPartition.getOrDefault(partition, List.of())));
			return all;
		}
	}

	private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
		Set<TopicPartition> assigned = consumer.assignment();
		for (Map.Entry<TopicPartition, Long> entry : end.entrySet()) {
			if (assigned.contains(entry.getKey()) && consumer.position(entry.getKey()) < entry.getValue()) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Return the committed offsets of a group.
	 * @param bootstrapServers where
	 * @param groupId the group
	 * @param partitions the partitions asked for
	 * @return the committed offset per partition, absent when none
	 */
	public static Map<TopicPartition, Long> committedOffsets(String bootstrapServers, String groupId,
			Collection<TopicPartition> partitions) {
		try (Admin admin = admin(bootstrapServers)) {
			Map<TopicPartition, Long> committed = new HashMap<>();
			admin.listConsumerGroupOffsets(groupId)
				.partitionsToOffsetAndMetadata()
				.get(30, TimeUnit.SECONDS)
				.forEach((partition, offset) -> {
					if (offset != null && partitions.contains(partition)) {
						committed.put(partition, offset.offset());
					}
				});
			return committed;
		}
		catch (Exception ex) {
			throw new IllegalStateException("Cannot read offsets of group " + groupId, ex);
		}
	}

}
