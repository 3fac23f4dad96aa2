package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.internal.ThrottledLog;
import io.github.reliablekafka.producer.DelayedDelivery;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;

/**
 * The delay tiers' topics exist only where delayed delivery is used: they are created on the first delayed send or
 * {@link RetryLaterException} of the application (or at startup when asked to), with the replication the durability
 * doctor demands, and the {@link DelayForwarder} runs only once they exist.
 *
 * <p>
 * At startup a background thread looks whether the topics exist (an earlier run, or another instance, used them):
 * then the forwarder starts. While they do not, it looks again every 5 minutes, so that an instance that never
 * delays anything itself still takes over forwarding from one that does. While the cluster cannot be reached it backs
 * off, and logs once per cause every 5 minutes.
 *
 * <p>
 * Topics it creates: each tier and the delay dead-letter topic, with the configured partitions, a replication factor
 * of 3 (or the configured one; at most the cluster's size), {@code min.insync.replicas=2} when the replication
 * factor is at least 3 (else 1) and {@code unclean.leader.election.enable=false}.
 */
public final class DelayTopics implements DelayedDelivery, SmartLifecycle, DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(DelayTopics.class);

	private static final long LOOK_AGAIN_MILLIS = TimeUnit.MINUTES.toMillis(5);

	private static final long FIRST_RETRY_MILLIS = TimeUnit.SECONDS.toMillis(30);

	private final DelayTiers tiers;

	private final String deadLetterTopic;

	private final SharedAdmin admin;

	private final int partitions;

	private final short replicationFactor;

	private final @Nullable DelayForwarder forwarder;

	private final boolean createAtStartup;

	private final Duration timeout;

	private final DelayPlans plans;

	private final DelaySender sender;

	private final ThrottledLog lookFailures = new ThrottledLog(logger, "Could not look for the delay tier topics",
			Duration.ofMinutes(5));

	private volatile boolean exist;

	private volatile boolean running;

	private @Nullable Thread looker;

	/**
	 * Create the topics' keeper.
	 * @param tiers the tiers
	 * @param deadLetterTopic the delay dead-letter topic
	 * @param admin the admin client to ask the cluster with
	 * @param partitions partitions of each topic created
	 * @param replicationFactor replication factor of each topic created, or {@code -1} for 3 (at most the cluster's
	 * size)
	 * @param forwarder the forwarder to start once the topics exist, or {@code null} when this application runs none
	 * @param createAtStartup whether to create the topics at startup rather than on first use
	 * @param timeout how long one look or creation may take
	 * @param allowedTargets the topics a delayed record may go to (whole names as regular expressions); empty for
	 * any topic that is not a delay topic
	 * @param maxDelay the longest delay
	 * @param sender writes to the tiers; closed when this keeper is destroyed
	 */
	DelayTopics(DelayTiers tiers, String deadLetterTopic, SharedAdmin admin, int partitions,
			short replicationFactor, @Nullable DelayForwarder forwarder, boolean createAtStartup, Duration timeout,
			List<Pattern> allowedTargets, Duration maxDelay, DelaySender sender) {
		this.plans = new DelayPlans(tiers, deadLetterTopic, allowedTargets, maxDelay);
		this.tiers = tiers;
		this.deadLetterTopic = deadLetterTopic;
		this.admin = admin;
		this.partitions = partitions;
		this.replicationFactor = replicationFactor;
		this.forwarder = forwarder;
		this.createAtStartup = createAtStartup;
		this.timeout = timeout;
		this.sender = sender;
	}

	DelaySender sender() {
		return this.sender;
	}

	@Override
	public void destroy() {
		stop();
		this.sender.destroy();
	}

	/**
	 * Return the tiers.
	 * @return the tiers
	 */
	DelayTiers tiers() {
		return this.tiers;
	}

	/**
	 * Return every topic of the delay tiers: each tier, then the dead-letter topic.
	 * @return the names
	 */
	public List<String> topics() {
		List<String> names = new ArrayList<>(this.tiers.topics());
		names.add(this.deadLetterTopic);
		return names;
	}

	/**
	 * Return whether the topics are known to exist.
	 * @return whether they exist
	 */
	public boolean exist() {
		return this.exist;
	}

	/**
	 * Plan a delayed record: the topics are created first if they do not exist yet.
	 * @throws IllegalArgumentException when the target is a delay topic, not allowed, or the delay too long
	 * @throws IllegalStateException when they could not be created
	 */
	@Override
	public ProducerRecord<String, byte[]> schedule(ProducerRecord<String, byte[]> record, long dueAt) {
		String refused = this.plans.refusal(record.topic());
		if (refused == null) {
			refused = this.plans.refusal(dueAt, System.currentTimeMillis());
		}
		if (refused != null) {
			throw new IllegalArgumentException("Cannot delay a record for topic " + record.topic() + ": " + refused);
		}
		ensureCreated();
		return this.sender.traced(this.tiers.schedule(record, dueAt));
	}

	/**
	 * Make sure the topics exist before a record is sent to them: create the missing ones (the first time only) and
	 * start the forwarder.
	 * @throws IllegalStateException when they could not be created; nothing should be sent to the tiers then
	 */
	public void ensureCreated() {
		if (this.exist) {
			return;
		}
		synchronized (this) {
			if (this.exist) {
				return;
			}
			try {
				create(this.admin.get());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("Interrupted while creating the delay tier topics", ex);
			}
			catch (Exception ex) {
				throw new IllegalStateException("Could not create the delay tier topics " + topics() + ": "
						+ ThrottledLog.describe(ex), ex);
			}
			found();
		}
	}

	private void create(Admin admin) throws Exception {
		int brokers = get(admin.describeCluster().nodes()).size();
		short replicas = (short) Math.max(1,
				Math.min((this.replicationFactor > 0) ? this.replicationFactor : 3, brokers));
		Map<String, String> configs = Map.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, (replicas >= 3) ? "2" : "1",
				TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG, "false");
		List<NewTopic> missing = new ArrayList<>();
		Set<String> existing = get(admin.listTopics().names());
		for (String topic : topics()) {
			if (!existing.contains(topic)) {
				missing.add(new NewTopic(topic, this.partitions, replicas).configs(configs));
			}
		}
		if (!missing.isEmpty()) {
			admin.createTopics(missing).values().forEach((topic, result) -> {
				try {
					get(result);
				}
				catch (ExecutionException ex) {
					if (!(ex.getCause() instanceof TopicExistsException)) {
						throw new IllegalStateException(ex.getCause());
					}
				}
				catch (Exception ex) {
					throw new IllegalStateException(ex);
				}
			});
			awaitLeaders(admin, missing.stream().map(NewTopic::name).toList());
			logger.info("Created the delay tier topics {} ({} partitions, replication factor {}, min.insync.replicas {})",
					missing.stream().map(NewTopic::name).toList(), this.partitions, replicas,
					configs.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG));
		}
	}

	/**
	 * A new topic's partitions get their leaders a moment after it is created, and the leader serves a partition a
	 * moment after the metadata names it. A send in between fails with NOT_LEADER_OR_FOLLOWER, and when a later batch
	 * of the same idempotent producer lands first, the failed one is refused as out of sequence until the delivery
	 * time-out: the first delayed sends of an application would end in doubt two minutes later. So wait until every
	 * partition has a leader that answers for it (a ListOffsets request goes to the leader itself).
	 */
	private void awaitLeaders(Admin admin, List<String> names) throws Exception {
		long deadline = System.nanoTime() + this.timeout.toNanos();
		while (System.nanoTime() < deadline) {
			try {
				Map<String, TopicDescription> described = get(admin.describeTopics(names).allTopicNames());
				Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
				boolean led = true;
				for (TopicDescription topic : described.values()) {
					for (TopicPartitionInfo partition : topic.partitions()) {
						led = led && partition.leader() != null && !partition.leader().isEmpty();
						partitions.put(new TopicPartition(topic.name(), partition.partition()), OffsetSpec.latest());
					}
				}
				if (led) {
					get(admin.listOffsets(partitions).all());
					return;
				}
			}
			catch (ExecutionException ex) {
				if (!(ex.getCause() instanceof RetriableException)) {
					throw ex;
				}
				// created, not yet known to (or served by) the broker that answered
			}
			Thread.sleep(100);
		}
	}

	private boolean lookForThem() throws Exception {
		Set<String> existing = get(this.admin.get().listTopics().names());
		List<String> missing = topics().stream().filter((topic) -> !existing.contains(topic)).toList();
		logger.debug("Delay tier topics missing: {}", missing);
		return missing.isEmpty();
	}

	private synchronized void found() {
		this.exist = true;
		if (this.forwarder != null && this.running && !this.forwarder.isRunning()) {
			this.forwarder.start();
		}
	}

	private <T> T get(org.apache.kafka.common.KafkaFuture<T> future) throws Exception {
		return future.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	@Override
	public synchronized void start() {
		if (this.running) {
			return;
		}
		this.running = true;
		if (this.exist) {
			found();
			return;
		}
		// not a daemon: in an application that only forwards, it is what keeps the process up until the forwarder runs
		Thread thread = new Thread(this::lookUntilFound, "rk-delay-topics");
		this.looker = thread;
		thread.start();
	}

	/** Look for the topics (or create them) until they exist, backing off while the cluster cannot be reached. */
	private void lookUntilFound() {
		long failedWait = FIRST_RETRY_MILLIS;
		while (this.running && !this.exist) {
			long wait = LOOK_AGAIN_MILLIS;
			try {
				if (this.createAtStartup) {
					ensureCreated();
				}
				else if (lookForThem()) {
					found();
				}
				this.lookFailures.succeeded("Found the delay tier topics");
				failedWait = FIRST_RETRY_MILLIS;
			}
			catch (InterruptedException ex) {
				return;
			}
			catch (Exception ex) {
				wait = failedWait;
				failedWait = Math.min(failedWait * 2, LOOK_AGAIN_MILLIS);
				this.lookFailures.failed(ex, "next try in " + wait / 1_000 + " s");
			}
			try {
				Thread.sleep(wait);
			}
			catch (InterruptedException ex) {
				return;
			}
		}
	}

	@Override
	public synchronized void stop() {
		this.running = false;
		if (this.looker != null) {
			this.looker.interrupt();
			this.looker = null;
		}
		if (this.forwarder != null && this.forwarder.isRunning()) {
			this.forwarder.stop();
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		// started before and stopped after the listener containers, which may send records into the tiers
		return Integer.MAX_VALUE - 200;
	}

	/**
	 * Describe what exists, for the log and the endpoint.
	 * @return a short description
	 */
	@Override
	public String toString() {
		Map<String, Object> state = new HashMap<>();
		state.put("exist", this.exist);
		state.put("forwarder", (this.forwarder != null) ? this.forwarder.isRunning() : "none");
		return "DelayTopics" + state;
	}

}
