package io.github.reliablekafka.testing;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The harness does what later tests rely on.
 */
class HarnessTests {

	@Test
	void forkedBrokerKeepsAcknowledgedRecordsAcrossSigkill() throws Exception {
		try (ForkedKafka kafka = ForkedKafka.singleNode()) {
			String topic = KafkaTestSupport.uniqueTopic("harness");
			kafka.createTopic(topic, 1, 1, Map.of());
			try (KafkaProducer<String, byte[]> producer = producer(kafka.bootstrapServers())) {
				for (int i = 0; i < 100; i++) {
					producer.send(new ProducerRecord<>(topic, "k", ("v" + i).getBytes(StandardCharsets.UTF_8)))
						.get(10, TimeUnit.SECONDS);
				}
			}
			kafka.kill(1);
			assertThat(kafka.isRunning(1)).isFalse();
			kafka.restart(1);
			List<ConsumerRecord<String, byte[]>> records = KafkaTestSupport.readAll(kafka.bootstrapServers(), topic,
					Duration.ofSeconds(30));
			System.out.printf("forked broker: sent=100 acknowledged=100 after-kill-9=%d%n", records.size());
			assertThat(records).hasSize(100);
		}
	}

	/**
	 * Kafka's own replication with the three-node harness; no library test uses three forked nodes, so this runs
	 * with {@code -Pslow} only (36 s of CI time otherwise).
	 */
	@Test
	@Tag("slow")
	void forkedThreeNodeClusterLosesNothingWhenOneNodeIsKilled() throws Exception {
		try (ForkedKafka kafka = ForkedKafka.threeNodes()) {
			String topic = KafkaTestSupport.uniqueTopic("harness-3");
			kafka.createTopic(topic, 3, 3, Map.of("min.insync.replicas", "2"));
			try (KafkaProducer<String, byte[]> producer = producer(kafka.bootstrapServers())) {
				for (int i = 0; i < 300; i++) {
					producer.send(new ProducerRecord<>(topic, "k" + (i % 10), new byte[] { (byte) i }));
				}
				producer.flush();
				kafka.kill(1);
				for (int i = 300; i < 600; i++) {
					producer.send(new ProducerRecord<>(topic, "k" + (i % 10), new byte[] { (byte) i }))
						.get(30, TimeUnit.SECONDS);
				}
			}
			kafka.restart(1);
			List<ConsumerRecord<String, byte[]>> records = KafkaTestSupport.readAll(kafka.bootstrapServers(), topic,
					Duration.ofSeconds(30));
			System.out.printf("forked 3-node cluster, node 1 killed mid-run: acknowledged=600 read=%d%n", records.size());
			assertThat(records).hasSize(600);
		}
	}

	@Test
	void childJvmCanBeKilledAndTerminated() throws Exception {
		try (ChildJvm child = ChildJvm.of(Sleeper.class.getName()).start()) {
			child.awaitLine("ready", Duration.ofSeconds(30));
			child.kill();
			assertThat(child.isAlive()).isFalse();
			assertThat(child.exitValue()).isEqualTo(137);
		}
		try (ChildJvm child = ChildJvm.of(Sleeper.class.getName()).start()) {
			child.awaitLine("ready", Duration.ofSeconds(30));
			assertThat(child.terminate(Duration.ofSeconds(30))).isEqualTo(143);
			System.out.println("child output after SIGTERM: " + child.lines());
			assertThat(child.lines()).contains("shutdown hook ran");
		}
	}

	/** A child application that waits to be killed. */
	public static final class Sleeper {

		public static void main(String[] args) throws Exception {
			Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
			System.out.println("ready");
			Thread.sleep(60_000);
		}

	}

	@Test
	void threeBrokerTestKitStartsAndReplicates() throws Exception {
		try (KafkaTestCluster cluster = KafkaTestCluster.threeBrokers()) {
			String topic = KafkaTestSupport.uniqueTopic("harness3");
			cluster.createTopic(topic, 3, 3, Map.of());
			try (KafkaProducer<String, byte[]> producer = producer(cluster.bootstrapServers())) {
				producer.send(new ProducerRecord<>(topic, "k", new byte[] { 1 })).get(10, TimeUnit.SECONDS);
			}
			assertThat(KafkaTestSupport.readAll(cluster.bootstrapServers(), topic, Duration.ofSeconds(30))).hasSize(1);
			cluster.assertHealthy();
		}
	}

	@ParameterizedTest
	@EnumSource(TestDatabase.Kind.class)
	void eachTestGetsItsOwnDatabase(TestDatabase.Kind kind) throws Exception {
		try (TestDatabase first = TestDatabase.of(kind); TestDatabase second = TestDatabase.of(kind)) {
			try (Connection connection = first.dataSource().getConnection(); Statement statement = connection.createStatement()) {
				statement.execute("CREATE TABLE harness_probe (id INT PRIMARY KEY)");
				statement.execute("INSERT INTO harness_probe VALUES (1)");
			}
			try (Connection connection = second.dataSource().getConnection(); Statement statement = connection.createStatement()) {
				statement.execute("CREATE TABLE harness_probe (id INT PRIMARY KEY)");
				try (ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM harness_probe")) {
					rows.next();
					assertThat(rows.getInt(1)).isZero();
				}
			}
		}
	}

	@Test
	void redisAnswers() {
		try (TestRedis redis = TestRedis.shared()) {
			String key = redis.keyPrefix() + "probe";
			var connection = redis.connectionFactory().getConnection();
			connection.stringCommands().set(key.getBytes(), "1".getBytes());
			assertThat(connection.stringCommands().get(key.getBytes())).isEqualTo("1".getBytes());
			connection.keyCommands().del(key.getBytes());
			connection.close();
		}
	}

	static KafkaProducer<String, byte[]> producer(String bootstrapServers) {
		return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
				ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
				ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class, ProducerConfig.ACKS_CONFIG,
				"all"));
	}

}
