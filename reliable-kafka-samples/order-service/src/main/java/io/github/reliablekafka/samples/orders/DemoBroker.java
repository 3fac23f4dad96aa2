package io.github.reliablekafka.samples.orders;

import java.time.Duration;
import java.util.Map;

import kafka.server.BrokerServer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * The in-JVM Kafka of the default set-up: one KRaft controller and one broker (Kafka's own test kit, which
 * spring-kafka-test brings), so the demo runs from a fresh clone with only a JDK. The broker can be stopped and
 * started again in place, on the same port, to show what a broker bounce does.
 */
final class DemoBroker implements AutoCloseable {

	private final KafkaClusterTestKit cluster;

	private DemoBroker(KafkaClusterTestKit cluster) {
		this.cluster = cluster;
	}

	static DemoBroker start() throws Exception {
		KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(
				new TestKitNodes.Builder().setCombined(false).setNumControllerNodes(1).setNumBrokerNodes(1).build());
		Map.of("offsets.topic.replication.factor", "1", "offsets.topic.num.partitions", "3",
				"group.initial.rebalance.delay.ms", "0", "transaction.state.log.replication.factor", "1",
				"transaction.state.log.min.isr", "1", "log.cleaner.dedupe.buffer.size", "8388608",
				"auto.create.topics.enable", "true")
			.forEach(builder::setConfigProp);
		KafkaClusterTestKit cluster = builder.build();
		try {
			cluster.format();
			cluster.startup();
			cluster.waitForReadyBrokers();
			return new DemoBroker(cluster);
		}
		catch (Exception ex) {
			cluster.close();
			throw ex;
		}
	}

	String bootstrapServers() {
		return this.cluster.bootstrapServers();
	}

	/**
	 * Stop the broker, wait, and start it again.
	 * @param down how long it stays down
	 */
	void bounce(Duration down) throws InterruptedException {
		BrokerServer broker = this.cluster.brokers().values().iterator().next();
		broker.shutdown();
		broker.awaitShutdown();
		Thread.sleep(down.toMillis());
		broker.startup();
	}

	@Override
	public void close() throws Exception {
		this.cluster.close();
	}

}
