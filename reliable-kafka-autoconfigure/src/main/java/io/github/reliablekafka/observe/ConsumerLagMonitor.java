package io.github.reliablekafka.observe;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.github.reliablekafka.internal.SharedAdmin;
import io.github.reliablekafka.internal.ThrottledLog;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Measures the consumer lag of the application's groups (committed offset versus end offset, per partition) every
 * interval, through an {@link Admin} client, and warns before records are skipped:
 * <ul>
 * <li>when a group's unconsumed records include some older than 80% of the topic's {@code retention.ms} (they will
 * be deleted before they are consumed unless the group catches up);</li>
 * <li>when records were already deleted before the group consumed them (its committed offset is below the log
 * start);</li>
 * <li>when a group has had no members for more than half the broker's {@code offsets.retention.minutes} (its
 * committed offsets will expire, and it would start over from {@code auto.offset.reset}).</li>
 * </ul>
 * Each warning is logged at WARN when it first appears and shown in every snapshot while it holds. While the
 * cluster cannot be reached, measurements back off (twice the wait each time, up to 5 minutes) and the failure is
 * logged once per cause every 5 minutes, with a count.
 */
public final class ConsumerLagMonitor implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(ConsumerLagMonitor.class);

	private static final double RETENTION_WARNING = 0.8;

	/** The longest wait between two measurements while the cluster cannot be reached. */
	private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

	private final SharedAdmin sharedAdmin;

	private final Supplier<Map<String, Set<String>>> groups;

	private final Supplier<Set<String>> shareGroups;

	private final Duration interval;

	private final Duration timeout;

	private final LagSnapshotListener onRefresh;

	private final Map<String, Long> emptySince = new ConcurrentHashMap<>();

	private volatile LagSnapshot snapshot = LagSnapshot.EMPTY;

	private volatile Set<String> warned = Set.of();

	/** The monitor's thread ({@code rk-lag-monitor-1}) while it runs. */
	private @Nullable ThreadPoolTaskScheduler scheduler;

	private final ThrottledLog failures = new ThrottledLog(logger, "Consumer lag not measured", Duration.ofMinutes(5));

	private int failedRounds;

	/**
	 * Create a monitor.
	 * @param admin the admin client to ask the cluster with
	 * @param groups the groups to watch, each with the topics it consumes
	 * @param interval how often to measure
	 * @param timeout how long to wait for the cluster's answers
	 * @param onRefresh told each new snapshot (the gauges)
	 */
	public ConsumerLagMonitor(SharedAdmin admin, Supplier<Map<String, Set<String>>> groups,
			Duration interval, Duration timeout, LagSnapshotListener onRefresh) {
		this(admin, groups, Set::of, interval, timeout, onRefresh);
	}

	/**
	 * Create a monitor that also knows which of the groups are share groups: their lag is the records from the
	 * group's start offset (below which every record is acknowledged) to the end, as the broker reports it, and their
	 * idle check is on the share group.
	 * @param admin the admin client to ask the cluster with
	 * @param groups the groups to watch, each with the topics it consumes
	 * @param shareGroups which of them are share groups
	 * @param interval how often to measure
	 * @param timeout how long to wait for the cluster's answers
	 * @param onRefresh told each new snapshot (the gauges)
	 */
	public ConsumerLagMonitor(SharedAdmin admin, Supplier<Map<String, Set<String>>> groups,
			Supplier<Set<String>> shareGroups, Duration interval, Duration timeout, LagSnapshotListener onRefresh) {
		this.sharedAdmin = admin;
		this.groups = groups;
		this.shareGroups = shareGroups;
		this.interval = interval;
		this.timeout = timeout;
		this.onRefresh = onRefresh;
	}

	/**
	 * Return the latest snapshot.
	 * @return it, {@link LagSnapshot#EMPTY} before the first measurement
	 */
	public LagSnapshot snapshot() {
		return this.snapshot;
	}

	/**
	 * Measure now.
	 * @return the new snapshot
	 * @throws IllegalStateException when the cluster did not answer
	 */
	public synchronized LagSnapshot refresh() {
		Admin client = admin();
		try {
			List<PartitionLag> lags = new ArrayList<>();
			List<String> warnings = new ArrayList<>();
			Map<String, Set<String>> watched = this.groups.get();
			Set<String> shares = this.shareGroups.get();
			for (Map.Entry<String, Set<String>> group : watched.entrySet()) {
				if (shares.contains(group.getKey())) {
					measureShareGroup(client, group.getKey(), group.getValue(), lags, warnings);
				}
				else {
					measure(client, group.getKey(), group.getValue(), lags, warnings);
				}
			}
			Set<String> classic = new HashSet<>(watched.keySet());
			classic.removeAll(shares);
			idleGroups(client, classic, warnings);
			LagSnapshot fresh = new LagSnapshot(Instant.now(), List.copyOf(lags), List.copyOf(warnings));
			Set<String> now = new HashSet<>(warnings);
			for (String warning : warnings) {
				if (!this.warned.contains(warning)) {
					logger.warn(warning);
				}
			}
			this.warned = now;
			this.snapshot = fresh;
			this.onRefresh.refreshed(fresh);
			return fresh;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while measuring consumer lag", ex);
		}
		catch (Exception ex) {
			throw new IllegalStateException("Could not measure consumer lag: " + ex, ex);
		}
	}

	private void measure(Admin client, String group, Set<String> topics, List<PartitionLag> lags,
			List<String> warnings) throws Exception {
		if (topics.isEmpty()) {
			return;
		}
		Set<TopicPartition> partitions = partitionsOf(client, topics);
		Map<TopicPartition, OffsetAndMetadata> committed = get(
				client.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
		Map<TopicPartition, ListOffsetsResultInfo> end = offsets(client, partitions, OffsetSpec.latest());
		Map<TopicPartition, ListOffsetsResultInfo> start = offsets(client, partitions, OffsetSpec.earliest());
		Map<String, Long> retention = retention(client, topics);
		long now = System.currentTimeMillis();
		Map<TopicPartition, OffsetSpec> nearExpiry = new HashMap<>();
		for (TopicPartition partition : partitions) {
			Long ms = retention.get(partition.topic());
			if (ms != null && ms > 0) {
				nearExpiry.put(partition, OffsetSpec.forTimestamp(now - (long) (ms * RETENTION_WARNING)));
			}
		}
		Map<TopicPartition, ListOffsetsResultInfo> old = nearExpiry.isEmpty() ? Map.of()
				: get(client.listOffsets(nearExpiry).all());
		for (TopicPartition partition : partitions) {
			OffsetAndMetadata commit = committed.get(partition);
			long endOffset = end.get(partition).offset();
			long startOffset = start.get(partition).offset();
			long position = (commit != null) ? commit.offset() : startOffset;
			long lag = Math.max(0, endOffset - Math.max(position, startOffset));
			lags.add(new PartitionLag(group, partition.topic(), partition.partition(),
					(commit != null) ? commit.offset() : -1, endOffset, lag));
			if (commit != null && commit.offset() < startOffset) {
				warnings.add("Group " + group + " skipped records of " + partition + ": offsets " + commit.offset()
						+ " to " + (startOffset - 1) + " were deleted (retention.ms) before the group consumed them");
			}
			ListOffsetsResultInfo firstRecent = old.get(partition);
			if (lag > 0 && firstRecent != null) {
				long firstRecentOffset = (firstRecent.offset() < 0) ? endOffset : firstRecent.offset();
				if (Math.max(position, startOffset) < firstRecentOffset) {
					warnings.add("Group " + group + " is " + lag + " records behind on " + partition
							+ " and its oldest unconsumed records are older than 80% of retention.ms="
							+ retention.get(partition.topic()) + ": they will be deleted before they are consumed "
							+ "unless the group catches up");
				}
			}
		}
	}

	/**
	 * The lag of a share group: from its start offset (every record below it is acknowledged or archived) to the end,
	 * the broker's own count when it gives one; and a warning when records wait and the group has no consumer.
	 */
	private void measureShareGroup(Admin client, String group, Set<String> topics, List<PartitionLag> lags,
			List<String> warnings) throws Exception {
		if (topics.isEmpty()) {
			return;
		}
		Set<TopicPartition> partitions = partitionsOf(client, topics);
		Map<TopicPartition, SharePartitionOffsetInfo> started = get(client
			.listShareGroupOffsets(Map.of(group, new ListShareGroupOffsetsSpec().topicPartitions(partitions)))
			.partitionsToOffsetInfo(group));
		Map<TopicPartition, ListOffsetsResultInfo> end = offsets(client, partitions, OffsetSpec.latest());
		Map<TopicPartition, ListOffsetsResultInfo> earliest = offsets(client, partitions, OffsetSpec.earliest());
		long waiting = 0;
		for (TopicPartition partition : partitions) {
			SharePartitionOffsetInfo info = started.get(partition);
			long endOffset = end.get(partition).offset();
			long start = (info != null) ? info.startOffset() : -1;
			long lag = (info != null) ? info.lag().orElse(Math.max(0, endOffset - Math.max(start, 0)))
					: Math.max(0, endOffset - earliest.get(partition).offset());
			lags.add(new PartitionLag(group, partition.topic(), partition.partition(), start, endOffset, lag));
			waiting += lag;
		}
		if (waiting > 0) {
			ShareGroupDescription description = get(client.describeShareGroups(List.of(group)).describedGroups()
				.get(group));
			if (description.members().isEmpty()) {
				warnings.add("Share group " + group + " has " + waiting + " records waiting and no consumer (state "
						+ description.groupState() + ")");
			}
		}
	}

	/** Every partition of the topics. */
	private Set<TopicPartition> partitionsOf(Admin client, Set<String> topics) throws Exception {
		Set<TopicPartition> partitions = new HashSet<>();
		for (TopicDescription description : get(client.describeTopics(topics).allTopicNames()).values()) {
			description.partitions()
				.forEach((partition) -> partitions.add(new TopicPartition(description.name(), partition.partition())));
		}
		return partitions;
	}

	private void idleGroups(Admin client, Set<String> groups, List<String> warnings) throws Exception {
		if (groups.isEmpty()) {
			return;
		}
		Map<String, KafkaFuture<ConsumerGroupDescription>> described = client.describeConsumerGroups(groups)
			.describedGroups();
		long now = System.currentTimeMillis();
		long offsetsRetention = -1;
		for (KafkaFuture<ConsumerGroupDescription> future : described.values()) {
			ConsumerGroupDescription description;
			try {
				description = get(future);
			}
			catch (ExecutionException ex) {
				if (ex.getCause() instanceof GroupIdNotFoundException) {
					continue; // never joined or committed: nothing to expire
				}
				throw ex;
			}
			if (description.groupState() != GroupState.EMPTY) {
				this.emptySince.remove(description.groupId());
				continue;
			}
			long since = this.emptySince.computeIfAbsent(description.groupId(), (group) -> now);
			if (offsetsRetention < 0) {
				offsetsRetention = offsetsRetentionMillis(client);
			}
			if (now - since > offsetsRetention / 2) {
				warnings.add("Group " + description.groupId() + " has had no members for " + (now - since) / 60_000
						+ " min, more than half of offsets.retention.minutes=" + offsetsRetention / 60_000
						+ ": its committed offsets will expire and it would start over from auto.offset.reset");
			}
		}
	}

	private long offsetsRetentionMillis(Admin client) throws Exception {
		Node any = get(client.describeCluster().nodes()).iterator().next();
		ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(any.id()));
		ConfigEntry entry = get(client.describeConfigs(List.of(broker)).all()).get(broker)
			.get("offsets.retention.minutes");
		long minutes = (entry != null && entry.value() != null) ? Long.parseLong(entry.value()) : 10_080;
		return TimeUnit.MINUTES.toMillis(minutes);
	}

	private Map<String, Long> retention(Admin client, Set<String> topics) throws Exception {
		List<ConfigResource> resources = topics.stream()
			.map((topic) -> new ConfigResource(ConfigResource.Type.TOPIC, topic))
			.toList();
		Map<ConfigResource, Config> configs = get(client.describeConfigs(resources).all());
		Map<String, Long> retention = new HashMap<>();
		configs.forEach((resource, config) -> {
			ConfigEntry entry = config.get(TopicConfig.RETENTION_MS_CONFIG);
			if (entry != null && entry.value() != null) {
				retention.put(resource.name(), Long.parseLong(entry.value()));
			}
		});
		return retention;
	}

	private Map<TopicPartition, ListOffsetsResultInfo> offsets(Admin client, Set<TopicPartition> partitions,
			OffsetSpec spec) throws Exception {
		Map<TopicPartition, OffsetSpec> request = new HashMap<>();
		partitions.forEach((partition) -> request.put(partition, spec));
		return get(client.listOffsets(request).all());
	}

	private <T> T get(KafkaFuture<T> future) throws Exception {
		return future.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	private Admin admin() {
		return this.sharedAdmin.get();
	}

	@Override
	public synchronized void start() {
		if (this.scheduler != null) {
			return;
		}
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.setThreadNamePrefix("rk-lag-monitor-");
		scheduler.initialize();
		this.scheduler = scheduler;
		scheduler.schedule(this::refreshAndReschedule, Instant.now().plusSeconds(1));
	}

	/**
	 * Measure, and schedule the next measurement: after the interval, or while the cluster cannot be reached after
	 * twice the last wait, up to {@link #MAX_BACKOFF} (or the interval when it is longer).
	 */
	private void refreshAndReschedule() {
		long delay = this.interval.toMillis();
		try {
			refresh();
			this.failedRounds = 0;
			this.failures.succeeded("Consumer lag measured again");
		}
		catch (RuntimeException ex) {
			this.failedRounds++;
			delay = Math.max(delay, Math.min(delay << Math.min(this.failedRounds, 10), MAX_BACKOFF.toMillis()));
			this.failures.failed(ex, "next try in " + Duration.ofMillis(delay).toSeconds() + " s");
		}
		synchronized (this) {
			if (this.scheduler != null) {
				this.scheduler.schedule(this::refreshAndReschedule, Instant.now().plusMillis(delay));
			}
		}
	}

	@Override
	public synchronized void stop() {
		if (this.scheduler != null) {
			this.scheduler.shutdown(); // a measurement running is interrupted: it only reads
			this.scheduler = null;
		}
	}

	@Override
	public synchronized boolean isRunning() {
		return this.scheduler != null;
	}

}
