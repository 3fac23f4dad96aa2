package io.github.reliablekafka.doctor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.github.reliablekafka.doctor.DoctorReport.Check;
import io.github.reliablekafka.doctor.DoctorReport.Verdict;
import io.github.reliablekafka.internal.SharedAdmin;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.jspecify.annotations.Nullable;

/**
 * Checks the no-loss checklist against the real cluster (through an {@link Admin} client) and the effective client
 * settings: producer {@code acks=all}, idempotence, retries and {@code delivery.timeout.ms}; consumer auto-commit off,
 * {@code session.timeout.ms >= 3 x heartbeat.interval.ms}, the listener retry budget below
 * {@code max.poll.interval.ms}; and for each topic the application produces to or listens on, replication factor
 * {@code >= 3}, {@code 2 <= min.insync.replicas < replication factor} and {@code unclean.leader.election.enable=false}.
 * A cluster with fewer than 3 brokers is a development cluster: its replication checks are reported as
 * {@link Verdict#DEV}, not failed.
 */
final class DurabilityDoctor {

	private static final int PRODUCTION_BROKERS = 3;

	private final SharedAdmin admin;

	private final @Nullable Map<String, Object> producerConfig;

	private final @Nullable Map<String, Object> consumerConfig;

	private final Supplier<Collection<String>> topics;

	private final @Nullable Duration listenerRetryBudget;

	private final Duration timeout;

	private Supplier<Collection<String>> shareGroups = List::of;

	private int listenerMaxAttempts;

	/**
	 * Create a doctor.
	 * @param admin the admin client to ask the cluster with
	 * @param producerConfig the effective producer settings, or {@code null} when the application does not produce
	 * @param consumerConfig the effective consumer settings, or {@code null} when it does not consume
	 * @param topics the topics the application produces to or listens on
	 * @param listenerRetryBudget how long retrying one record can take in all, or {@code null}
	 * @param timeout how long to wait for the cluster's answers
	 */
	DurabilityDoctor(SharedAdmin admin, @Nullable Map<String, Object> producerConfig,
			@Nullable Map<String, Object> consumerConfig, Supplier<Collection<String>> topics,
			@Nullable Duration listenerRetryBudget, Duration timeout) {
		this.admin = admin;
		this.producerConfig = producerConfig;
		this.consumerConfig = consumerConfig;
		this.topics = topics;
		this.listenerRetryBudget = listenerRetryBudget;
		this.timeout = timeout;
	}

	/**
	 * Check the share groups of share-group listeners too: the cluster has share groups on, and the delivery-count
	 * limit leaves the listener's attempts and one more delivery for the dead-letter topic.
	 * @param groups the share groups
	 * @param maxAttempts the attempts per record of reliable listeners
	 * @return this doctor
	 */
	DurabilityDoctor withShareGroups(Supplier<Collection<String>> groups, int maxAttempts) {
		this.shareGroups = groups;
		this.listenerMaxAttempts = maxAttempts;
		return this;
	}

	/**
	 * Run every check.
	 * @return the report
	 */
	DoctorReport examine() {
		List<Check> checks = new ArrayList<>();
		if (this.producerConfig != null) {
			producerChecks(this.producerConfig, checks);
		}
		if (this.consumerConfig != null) {
			consumerChecks(this.consumerConfig, checks);
		}
		int brokers = clusterChecks(checks);
		return new DoctorReport(List.copyOf(checks), brokers, brokers > 0 && brokers < PRODUCTION_BROKERS);
	}

	private static void producerChecks(Map<String, Object> config, List<Check> checks) {
		String acks = text(config, ProducerConfig.ACKS_CONFIG, "all");
		boolean acksAll = acks.equals("all") || acks.equals("-1");
		checks.add(new Check("acks", "producer", "all", acks, acksAll ? Verdict.OK : Verdict.FAIL,
				"remove spring.kafka.producer.acks (the library defaults it to all) or set it to all: with acks=" + acks
						+ " a broker failure loses records the producer was told were written"));
		String idempotence = text(config, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "");
		String actualIdempotence = idempotence.isEmpty() ? (acksAll ? "true (default)" : "false (acks is not all)")
				: idempotence;
		boolean idempotent = idempotence.isEmpty() ? acksAll : Boolean.parseBoolean(idempotence);
		checks.add(new Check("enable.idempotence", "producer", "true", actualIdempotence,
				idempotent ? Verdict.OK : Verdict.FAIL,
				(idempotence.isEmpty() ? "set acks=all, which idempotence needs" : "remove enable.idempotence=false")
						+ ": without idempotence a retried send can be written twice or out of order"));
		long retries = number(config, ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
		checks.add(new Check("retries", "producer", "> 0", describe(config, ProducerConfig.RETRIES_CONFIG, retries),
				(retries > 0) ? Verdict.OK : Verdict.FAIL,
				"remove retries=0 (spring.kafka.producer.retries): one transient error would fail the send"));
		long deliveryTimeout = number(config, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
		checks.add(new Check("delivery.timeout.ms", "producer", ">= 30000",
				describe(config, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryTimeout),
				(deliveryTimeout >= 30_000) ? Verdict.OK : Verdict.WARN,
				"raise delivery.timeout.ms (default 120000): a leader election can take longer than " + deliveryTimeout
						+ " ms, and every send in that window fails"));
	}

	private void consumerChecks(Map<String, Object> config, List<Check> checks) {
		String autoCommit = text(config, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "");
		boolean off = autoCommit.isEmpty() || !Boolean.parseBoolean(autoCommit);
		checks.add(new Check("enable.auto.commit", "consumer", "false",
				autoCommit.isEmpty() ? "false (spring-kafka's default)" : autoCommit, off ? Verdict.OK : Verdict.FAIL,
				"remove spring.kafka.consumer.enable-auto-commit=true: offsets would be committed before the work is "
						+ "done, and a crash loses the records in between"));
		if ("consumer".equalsIgnoreCase(text(config, ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic"))) {
			checks.add(new Check("session.timeout.ms >= 3 x heartbeat.interval.ms", "consumer", "broker-side",
					"group.protocol=consumer (the broker sets both)", Verdict.OK, ""));
		}
		else {
			long session = number(config, ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 45_000);
			long heartbeat = number(config, ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);
			checks.add(new Check("session.timeout.ms >= 3 x heartbeat.interval.ms", "consumer", ">= " + (3 * heartbeat),
					Long.toString(session), (session >= 3 * heartbeat) ? Verdict.OK : Verdict.FAIL,
					"raise session.timeout.ms to at least " + (3 * heartbeat)
							+ ": one late heartbeat would expel the consumer and start a rebalance"));
		}
		if (this.listenerRetryBudget != null) {
			long maxPollInterval = number(config, ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 300_000);
			long budget = this.listenerRetryBudget.toMillis();
			checks.add(new Check("listener retry time < max.poll.interval.ms", "consumer", "< " + maxPollInterval,
					budget + " ms", (budget < maxPollInterval) ? Verdict.OK : Verdict.WARN,
					"lower reliable.kafka.consumer.retry.* or raise max.poll.interval.ms: a record that keeps failing "
							+ "could make the consumer leave its group"));
		}
	}

	/**
	 * The cluster and topic checks.
	 * @return the number of brokers, {@code -1} when the cluster could not be reached
	 */
	private int clusterChecks(List<Check> checks) {
		try {
			Admin admin = this.admin.get();
			int brokers = get(admin.describeCluster().nodes()).size();
			boolean development = brokers < PRODUCTION_BROKERS;
			checks.add(new Check("brokers", "cluster", ">= " + PRODUCTION_BROKERS, Integer.toString(brokers),
					development ? Verdict.DEV : Verdict.OK,
					"a cluster of fewer than 3 brokers cannot keep a record through a broker failure"));
			Set<String> names = new TreeSet<>(this.topics.get());
			for (String topic : names) {
				topicChecks(admin, topic, brokers, checks);
			}
			Collection<String> groups = this.shareGroups.get();
			if (!groups.isEmpty()) {
				shareChecks(admin, new TreeSet<>(groups), checks);
			}
			return brokers;
		}
		catch (Exception ex) {
			if (ex instanceof InterruptedException) {
				Thread.currentThread().interrupt();
			}
			Throwable cause = (ex instanceof ExecutionException && ex.getCause() != null) ? ex.getCause() : ex;
			checks.add(new Check("reachable", "cluster", "answers within " + this.timeout.toMillis() + " ms",
					cause.getClass().getSimpleName() + ": " + cause.getMessage(), Verdict.FAIL,
					"check spring.kafka.bootstrap-servers and the network; nothing could be verified"));
			return -1;
		}
	}

	private void topicChecks(Admin admin, String topic, int brokers, List<Check> checks) throws Exception {
		TopicDescription description;
		try {
			description = get(admin.describeTopics(List.of(topic)).topicNameValues().get(topic));
		}
		catch (ExecutionException ex) {
			if (ex.getCause() instanceof UnknownTopicOrPartitionException) {
				checks.add(new Check("exists", topic, "yes", "no", Verdict.WARN,
						"create it with replication.factor >= 3 and min.insync.replicas=2; auto-creation would use "
								+ "the broker's defaults"));
				return;
			}
			throw ex;
		}
		boolean development = brokers < PRODUCTION_BROKERS;
		Verdict failed = development ? Verdict.DEV : Verdict.FAIL;
		int replicas = description.partitions().stream().mapToInt((partition) -> partition.replicas().size()).min()
			.orElse(0);
		checks.add(new Check("replication.factor", topic, ">= 3", Integer.toString(replicas),
				(replicas >= 3) ? Verdict.OK : failed,
				"recreate or reassign it with replication.factor >= 3: with " + replicas
						+ " a single broker failure can lose acknowledged records"));
		ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
		Config config = get(admin.describeConfigs(List.of(resource)).all()).get(resource);
		long minInsync = Long.parseLong(value(config, TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "1"));
		boolean minInsyncOk = minInsync >= 2 && minInsync < replicas;
		String expected = (replicas >= 3) ? ">= 2 and < " + replicas : ">= 2 (with replication.factor >= 3)";
		checks.add(new Check("min.insync.replicas", topic, expected, Long.toString(minInsync),
				minInsyncOk ? Verdict.OK : failed,
				(minInsync < 2) ? "set min.insync.replicas=2 on the topic: with " + minInsync
						+ " a write acknowledged by one broker is lost with that broker"
						: "lower min.insync.replicas below the replication factor (" + replicas
								+ "): one broker down would stop every write"));
		String unclean = value(config, TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG, "false");
		checks.add(new Check("unclean.leader.election.enable", topic, "false", unclean,
				Boolean.parseBoolean(unclean) ? Verdict.FAIL : Verdict.OK,
				"set unclean.leader.election.enable=false: an out-of-sync replica could become leader and drop "
						+ "acknowledged records"));
	}

	/** Share groups on, and a delivery-count limit above the listener's attempts (its last delivery is kept). */
	private void shareChecks(Admin admin, Set<String> groups, List<Check> checks) throws Exception {
		String subject = "share groups " + groups;
		FinalizedVersionRange share = get(admin.describeFeatures().featureMetadata()).finalizedFeatures()
			.get("share.version");
		int level = (share != null) ? share.maxVersionLevel() : 0;
		checks.add(new Check("share.version", subject, ">= 1", Integer.toString(level),
				(level >= 1) ? Verdict.OK : Verdict.FAIL,
				"turn share groups on (kafka-features.sh upgrade --feature share.version=1): share-group listeners "
						+ "cannot start without them"));
		Collection<Node> nodes = get(admin.describeCluster().nodes());
		ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER,
				String.valueOf(nodes.iterator().next().id()));
		Config config = get(admin.describeConfigs(List.of(broker)).all()).get(broker);
		long limit = Long.parseLong(value(config, "group.share.delivery.count.limit", "5"));
		checks.add(new Check("group.share.delivery.count.limit", subject, "> " + this.listenerMaxAttempts
				+ " (retry.max-attempts, and one delivery for the dead-letter topic)", Long.toString(limit),
				(limit > this.listenerMaxAttempts) ? Verdict.OK : Verdict.WARN,
				"raise group.share.delivery.count.limit on the brokers or lower reliable.kafka.consumer.retry.max-attempts:"
						+ " only " + (limit - 1) + " attempts run, the last delivery goes to the dead-letter topic"));
		String lock = value(config, "group.share.record.lock.duration.ms", "30000");
		checks.add(new Check("group.share.record.lock.duration.ms", subject, "any (renewed while a record runs)",
				lock, Verdict.OK, ""));
	}

	private <T> T get(KafkaFuture<T> future) throws Exception {
		return future.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	private static String value(Config config, String name, String defaultValue) {
		ConfigEntry entry = config.get(name);
		return (entry != null && entry.value() != null) ? entry.value() : defaultValue;
	}

	private static String text(Map<String, Object> config, String name, String defaultValue) {
		Object value = config.get(name);
		return (value != null) ? value.toString().trim() : defaultValue;
	}

	private static long number(Map<String, Object> config, String name, long defaultValue) {
		Object value = config.get(name);
		return (value != null) ? Long.parseLong(value.toString().trim()) : defaultValue;
	}

	private static String describe(Map<String, Object> config, String name, long value) {
		return config.containsKey(name) ? Long.toString(value) : value + " (default)";
	}

}
