package io.github.reliablekafka.testing;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import kafka.server.BrokerServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * Three Kafka brokers and one controller inside the test JVM, on Kafka's own test kit (spring-kafka-test's
 * {@code @EmbeddedKafka(count = 3)} is unstable with Kafka 4.2: its combined nodes lose their raft threads).
 * Brokers can be stopped and started again in place. An internal Kafka test API: the Kafka version is pinned by the
 * Spring Boot BOM.
 */
public final class KafkaTestCluster implements AutoCloseable {

	private final KafkaClusterTestKit cluster;

	private KafkaTestCluster(KafkaClusterTestKit cluster) {
		this.cluster = cluster;
	}

	/**
	 * Start 3 brokers with replication factor 3 and {@code min.insync.replicas=2} as defaults.
	 * @return the running cluster
	 * @throws Exception when it does not start
	 */
	public static KafkaTestCluster threeBrokers() throws Exception {
		KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(
				new TestKitNodes.Builder().setCombined(false).setNumControllerNodes(1).setNumBrokerNodes(3).build());
		Map.of("default.replication.factor", "3", "min.insync.replicas", "2", "offsets.topic.replication.factor", "3",
				"offsets.topic.num.partitions", "5", "group.initial.rebalance.delay.ms", "0",
				"unclean.leader.election.enable", "false", "log.cleaner.dedupe.buffer.size", "8388608",
				"transaction.state.log.replication.factor", "3", "transaction.state.log.min.isr", "2")
			.forEach(builder::setConfigProp);
		KafkaClusterTestKit cluster = builder.build();
		try {
			cluster.format();
			cluster.startup();
			cluster.waitForReadyBrokers();
			return new KafkaTestCluster(cluster);
		}
		catch (Exception ex) {
			cluster.close();
			throw ex;
		}
	}

	public String bootstrapServers() {
		return this.cluster.bootstrapServers();
	}

	public Map<Integer, BrokerServer> brokers() {
		return this.cluster.brokers();
	}

	public void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
		try (Admin admin = KafkaTestSupport.admin(bootstrapServers())) {
			admin.createTopics(List.of(new NewTopic(name, partitions, (short) replicationFactor).configs(configs)))
				.all()
				.get(30, TimeUnit.SECONDS);
			KafkaTestSupport.awaitLeaders(admin, name, partitions, Duration.ofSeconds(30));
		}
		catch (Exception ex) {
			throw new IllegalStateException("Cannot create topic " + name, ex);
		}
	}

	/**
	 * Stop a broker in place (a clean in-JVM shutdown, not a crash).
	 * @param id the broker id as in {@link #brokers()}
	 */
	public void stopBroker(int id) {
		BrokerServer broker = this.cluster.brokers().get(id);
		broker.shutdown();
		broker.awaitShutdown();
	}

	/**
	 * Start a stopped broker again.
	 * @param id the broker id
	 */
	public void startBroker(int id) {
		this.cluster.brokers().get(id).startup();
	}

	/**
	 * Fail when the cluster reported a fatal fault; call at the end of each test.
	 */
	public void assertHealthy() {
		Throwable fault = this.cluster.fatalFaultHandler().firstException();
		if (fault != null) {
			throw new AssertionError("Kafka test cluster reported a fatal fault", fault);
		}
	}

	@Override
	public void close() throws Exception {
		this.cluster.close();
	}

}
