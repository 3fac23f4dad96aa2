package io.github.reliablekafka.autoconfigure.delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of delayed delivery through tier topics: {@code ReliableKafkaTemplate.sendDelayed} without an
 * outbox, and {@code RetryLaterException} from reliable listeners.
 */
@ConfigurationProperties("reliable.kafka.delay")
public class ReliableKafkaDelayProperties {

	/**
	 * Whether delayed delivery through tier topics is on: sendDelayed uses them when there is no outbox, and
	 * RetryLaterException sends records through them. The topics are created on first use.
	 */
	private boolean enabled = true;

	/**
	 * Whether to create the tier topics (and start the forwarder) at startup rather than on the first delayed record.
	 */
	private boolean createTopicsAtStartup = false;

	/**
	 * The delay of each tier topic. A delay is taken through the largest tier not longer than what is left, hopping
	 * as often as needed; a record leaves a tier when it is due or when the tier's delay has passed.
	 */
	private List<Duration> tiers = new ArrayList<>(List.of(Duration.ofSeconds(1), Duration.ofSeconds(5),
			Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2),
			Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(30), Duration.ofHours(1),
			Duration.ofHours(2)));

	/**
	 * Prefix of the tier topic names; a tier's name follows it (rk-delay-orders-5s, rk-delay-orders-1m). Records whose
	 * plan is refused go to the topic named prefix + "dlt". Per application by default; without
	 * spring.application.name it is rk-delay-.
	 */
	private String topicPrefix = "rk-delay-${spring.application.name}-";

	/**
	 * Partitions of each tier topic created by the library. More partitions let more application instances forward.
	 */
	private int partitions = 3;

	/**
	 * Replication factor of each tier topic created by the library; -1 for 3, or the cluster's size when it has
	 * fewer brokers.
	 */
	private short replicationFactor = -1;

	/**
	 * How many times a listener may ask for one record to come back later (RetryLaterException) before the record
	 * goes to the dead-letter topic.
	 */
	private int maxAttempts = 10;

	/**
	 * Consumer group of the forwarders that consume the tier topics. Per application by default; without
	 * spring.application.name it is rk-delay-forwarder.
	 */
	private String groupId = "rk-delay-forwarder-${spring.application.name}";

	/**
	 * Topics a delayed record may go to, as regular expressions matching whole names; empty for any topic that is not
	 * a delay topic. A plan for another topic goes to the delay dead-letter topic.
	 */
	private List<String> allowedTargets = new ArrayList<>();

	/**
	 * Longest delay: sendDelayed refuses a longer one, and the forwarder sends a record due further ahead to the delay
	 * dead-letter topic.
	 */
	private Duration maxDelay = Duration.ofDays(30);

	private final Forwarder forwarder = new Forwarder();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public boolean isCreateTopicsAtStartup() {
		return this.createTopicsAtStartup;
	}

	public void setCreateTopicsAtStartup(boolean createTopicsAtStartup) {
		this.createTopicsAtStartup = createTopicsAtStartup;
	}

	public List<Duration> getTiers() {
		return this.tiers;
	}

	public void setTiers(List<Duration> tiers) {
		this.tiers = tiers;
	}

	public String getTopicPrefix() {
		return this.topicPrefix;
	}

	public void setTopicPrefix(String topicPrefix) {
		this.topicPrefix = topicPrefix;
	}

	public int getPartitions() {
		return this.partitions;
	}

	public void setPartitions(int partitions) {
		this.partitions = partitions;
	}

	public short getReplicationFactor() {
		return this.replicationFactor;
	}

	public void setReplicationFactor(short replicationFactor) {
		this.replicationFactor = replicationFactor;
	}

	public int getMaxAttempts() {
		return this.maxAttempts;
	}

	public void setMaxAttempts(int maxAttempts) {
		this.maxAttempts = maxAttempts;
	}

	public String getGroupId() {
		return this.groupId;
	}

	public void setGroupId(String groupId) {
		this.groupId = groupId;
	}

	public List<String> getAllowedTargets() {
		return this.allowedTargets;
	}

	public void setAllowedTargets(List<String> allowedTargets) {
		this.allowedTargets = allowedTargets;
	}

	public Duration getMaxDelay() {
		return this.maxDelay;
	}

	public void setMaxDelay(Duration maxDelay) {
		this.maxDelay = maxDelay;
	}

	public Forwarder getForwarder() {
		return this.forwarder;
	}

	/**
	 * The forwarder that moves due records out of the tier topics.
	 */
	public static class Forwarder {

		/**
		 * Whether this application runs a forwarder once the tier topics exist. Turn it off in applications that only
		 * send delayed records, when others forward them.
		 */
		private boolean enabled = true;

		/**
		 * How long the forwarder waits for Kafka to confirm a forwarded record before it tries again from there.
		 */
		private Duration sendTimeout = Duration.ofSeconds(30);

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getSendTimeout() {
			return this.sendTimeout;
		}

		public void setSendTimeout(Duration sendTimeout) {
			this.sendTimeout = sendTimeout;
		}

	}

}
