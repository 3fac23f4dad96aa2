package io.github.reliablekafka.test;

import java.nio.file.Files;
import java.util.Map;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A Kafka cluster in the test's JVM: one KRaft controller and one broker from Kafka's own test kit, with the
 * settings a one-broker cluster needs (internal topics with one replica, no initial rebalance delay, topics created
 * on first use). It starts in a few seconds and needs neither Docker nor a download.
 */
public final class InJvmKafka implements AutoCloseable {

	private final KafkaClusterTestKit cluster;

	private InJvmKafka(KafkaClusterTestKit cluster) {
		this.cluster = cluster;
	}

	/**
	 * Start a cluster and wait until its broker is ready.
	 * @return the running cluster
	 * @throws IllegalStateException when it does not start
	 */
	public static InJvmKafka start() {
		KafkaClusterTestKit cluster = null;
		try {
			// a directory of its own: Kafka's default one is deleted by a JVM shutdown hook that races with Spring's
			// closing of the test's context (and so with the broker's last writes)
			KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
				.setBaseDirectory(Files.createTempDirectory("reliable-kafka-test-"))
				.setBootstrapMetadataVersion(MetadataVersion.latestProduction()) // what a released broker runs
				.setCombined(false)
				.setNumControllerNodes(1)
				.setNumBrokerNodes(1)
				.build());
			Map.of("offsets.topic.replication.factor", "1", "offsets.topic.num.partitions", "3",
					"transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
					"share.coordinator.state.topic.replication.factor", "1",
					"share.coordinator.state.topic.min.isr", "1", "group.initial.rebalance.delay.ms", "0",
					"auto.create.topics.enable", "true", "log.cleaner.dedupe.buffer.size", "8388608")
				.forEach(builder::setConfigProp);
			cluster = builder.build();
			cluster.format();
			cluster.startup();
			cluster.waitForReadyBrokers();
			return new InJvmKafka(cluster);
		}
		catch (Exception ex) {
			if (cluster != null) {
				try {
					cluster.close();
				}
				catch (Exception closing) {
					ex.addSuppressed(closing);
				}
			}
			if (ex instanceof InterruptedException) {
				Thread.currentThread().interrupt();
			}
			throw new IllegalStateException("Could not start the in-JVM Kafka broker: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Return where clients connect.
	 * @return {@code host:port}
	 */
	public String bootstrapServers() {
		return this.cluster.bootstrapServers();
	}

	@Override
	public void close() throws Exception {
		this.cluster.close();
	}

}
