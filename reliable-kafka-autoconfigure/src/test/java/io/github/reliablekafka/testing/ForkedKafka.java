package io.github.reliablekafka.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.springframework.util.FileSystemUtils;

/**
 * Real Kafka brokers as child JVM processes, started from the Kafka jars on the test class path: a single node or a
 * 3-node KRaft cluster (each node broker and controller), on loopback ports with their own data directories. Any
 * node can be killed with SIGKILL, stopped with SIGTERM and restarted with its data and ports intact. Crash tests
 * use this: stopping a broker inside the test JVM is not a crash.
 */
public final class ForkedKafka implements AutoCloseable {

	private final String clusterId = Uuid.randomUuid().toString();

	private final Path baseDir;

	private final List<Node> nodes = new ArrayList<>();

	private final Map<String, String> extraConfig;

	private ForkedKafka(int size, Map<String, String> extraConfig) {
		this.extraConfig = extraConfig;
		try {
			this.baseDir = Files.createTempDirectory("rk-forked-kafka-");
			for (int id = 1; id <= size; id++) {
				this.nodes.add(new Node(id, freePort(), freePort(), this.baseDir.resolve("node-" + id)));
			}
			for (Node node : this.nodes) {
				writeConfig(node);
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Create and start a single-node cluster.
	 * @return the running cluster
	 */
	public static ForkedKafka singleNode() {
		return start(1, Map.of());
	}

	/**
	 * Create and start a 3-node cluster: replication factor 3 and {@code min.insync.replicas=2} by default.
	 * @return the running cluster
	 */
	public static ForkedKafka threeNodes() {
		return start(3, Map.of());
	}

	/**
	 * Create and start a cluster.
	 * @param size the number of nodes, 1 or 3
	 * @param extraConfig broker settings added to every node
	 * @return the running cluster
	 */
	public static ForkedKafka start(int size, Map<String, String> extraConfig) {
		ForkedKafka kafka = new ForkedKafka(size, extraConfig);
		try {
			kafka.format();
			kafka.nodes.forEach(Node::launch);
			kafka.awaitReady(Duration.ofSeconds(60));
			return kafka;
		}
		catch (RuntimeException ex) {
			kafka.close();
			throw ex;
		}
	}

	public String bootstrapServers() {
		return this.nodes.stream().map((node) -> "127.0.0.1:" + node.brokerPort).collect(Collectors.joining(","));
	}

	public int size() {
		return this.nodes.size();
	}

	/**
	 * SIGKILL a node: no controlled shutdown, no flush.
	 * @param id the node id, from 1
	 */
	public void kill(int id) {
		node(id).process().kill();
	}

	/**
	 * Stop a node with SIGTERM and wait for its controlled shutdown.
	 * @param id the node id, from 1
	 */
	public void stop(int id) {
		node(id).process().terminate(Duration.ofSeconds(60));
	}

	/**
	 * Start a stopped or killed node again, with its data and ports, and wait until it serves requests.
	 * @param id the node id, from 1
	 */
	public void restart(int id) {
		Node node = node(id);
		if (node.process != null && node.process.isAlive()) {
			throw new IllegalStateException("Node " + id + " is still running");
		}
		node.launch();
		awaitNode(node, Duration.ofSeconds(60));
	}

	public boolean isRunning(int id) {
		ChildJvm process = node(id).process;
		return process != null && process.isAlive();
	}

	/**
	 * Create a topic and wait until it has a leader for every partition.
	 * @param name the topic
	 * @param partitions the partition count
	 * @param replicationFactor the replication factor, at most {@link #size()}
	 * @param configs topic settings
	 */
	public void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
		try (Admin admin = admin()) {
			admin.createTopics(List.of(new NewTopic(name, partitions, (short) replicationFactor).configs(configs)))
				.all()
				.get(30, TimeUnit.SECONDS);
			KafkaTestSupport.awaitLeaders(admin, name, partitions, Duration.ofSeconds(30));
		}
		catch (Exception ex) {
			throw new IllegalStateException("Cannot create topic " + name, ex);
		}
	}

	public Admin admin() {
		return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
				AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
				30_000));
	}

	@Override
	public void close() {
		for (Node node : this.nodes) {
			if (node.process != null) {
				node.process.close();
			}
		}
		FileSystemUtils.deleteRecursively(this.baseDir.toFile());
	}

	private Node node(int id) {
		return this.nodes.get(id - 1);
	}

	private void format() {
		List<ChildJvm> formats = new ArrayList<>();
		for (Node node : this.nodes) {
			formats.add(ChildJvm.of("kafka.tools.StorageTool")
				.name("kafka-format-" + node.id)
				.heap("128m")
				.args("format", "-t", this.clusterId, "-c", node.config.toString())
				.start());
		}
		for (ChildJvm format : formats) {
			if (!format.waitFor(Duration.ofSeconds(60)) || format.exitValue() != 0) {
				throw new IllegalStateException("Formatting Kafka storage failed: " + format.lines());
			}
		}
	}

	private void awaitReady(Duration timeout) {
		for (Node node : this.nodes) {
			awaitNode(node, timeout);
		}
	}

	private void awaitNode(Node node, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		Map<String, Object> config = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + node.brokerPort,
				AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
		while (System.nanoTime() < deadline) {
			if (!node.process().isAlive()) {
				throw new IllegalStateException("Kafka node " + node.id + " exited; see " + node.process().logFile());
			}
			try (Admin admin = Admin.create(config)) {
				int brokers = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size();
				if (brokers >= 1) {
					return;
				}
			}
			catch (Exception ex) {
				// not up yet
			}
			sleep(200);
		}
		throw new IllegalStateException("Kafka node " + node.id + " did not start within " + timeout + "; see "
				+ node.process().logFile());
	}

	private void writeConfig(Node node) throws IOException {
		int size = this.nodes.size();
		String voters = this.nodes.stream()
			.map((n) -> n.id + "@127.0.0.1:" + n.controllerPort)
			.collect(Collectors.joining(","));
		Map<String, String> config = new LinkedHashMap<>();
		config.put("process.roles", "broker,controller");
		config.put("node.id", String.valueOf(node.id));
		config.put("controller.quorum.voters", voters);
		config.put("listeners", "PLAINTEXT://127.0.0.1:" + node.brokerPort + ",CONTROLLER://127.0.0.1:" + node.controllerPort);
		config.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + node.brokerPort);
		config.put("controller.listener.names", "CONTROLLER");
		config.put("inter.broker.listener.name", "PLAINTEXT");
		config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
		config.put("log.dirs", node.dir.resolve("data").toString());
		config.put("num.partitions", "1");
		config.put("default.replication.factor", String.valueOf(size));
		config.put("min.insync.replicas", String.valueOf(Math.min(2, size)));
		config.put("offsets.topic.replication.factor", String.valueOf(size));
		config.put("offsets.topic.num.partitions", "5");
		config.put("transaction.state.log.replication.factor", String.valueOf(size));
		config.put("transaction.state.log.min.isr", String.valueOf(Math.min(2, size)));
		config.put("transaction.state.log.num.partitions", "5");
		config.put("share.coordinator.state.topic.replication.factor", String.valueOf(size));
		config.put("share.coordinator.state.topic.min.isr", String.valueOf(Math.min(2, size)));
		config.put("unclean.leader.election.enable", "false");
		config.put("group.initial.rebalance.delay.ms", "0");
		config.put("broker.session.timeout.ms", "3000");
		config.put("broker.heartbeat.interval.ms", "500");
		config.put("log.cleaner.dedupe.buffer.size", "8388608");
		config.put("auto.create.topics.enable", "true");
		config.putAll(this.extraConfig);
		Files.createDirectories(node.dir);
		Properties properties = new Properties();
		properties.putAll(config);
		try (Writer writer = Files.newBufferedWriter(node.config, StandardCharsets.UTF_8)) {
			properties.store(writer, "reliable-kafka forked broker " + node.id);
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			socket.setReuseAddress(true);
			return socket.getLocalPort();
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static final class Node {

		final int id;

		final int brokerPort;

		final int controllerPort;

		final Path dir;

		final Path config;

		ChildJvm process;

		Node(int id, int brokerPort, int controllerPort, Path dir) {
			this.id = id;
			this.brokerPort = brokerPort;
			this.controllerPort = controllerPort;
			this.dir = dir;
			this.config = dir.resolve("server.properties");
		}

		ChildJvm process() {
			if (this.process == null) {
				throw new IllegalStateException("Kafka node " + this.id + " was never started");
			}
			return this.process;
		}

		void launch() {
			this.process = ChildJvm.of("kafka.Kafka")
				.name("kafka-node-" + this.id)
				.heap("256m")
				.fullJit()
				.discardLines()
				.args(this.config.toString())
				.start();
		}

	}

}
