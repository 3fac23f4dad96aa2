package io.github.reliablekafka.consumer;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the library needs to know and set on the broker before a share group's first consumer starts: that the
 * cluster has share groups on ({@code share.version} at least 1), the delivery-count limit
 * ({@code group.share.delivery.count.limit}, whose last delivery is kept for the dead-letter topic), and where a new
 * group starts: Kafka's default for share groups is the latest record, which would skip every record written before
 * the group first read; unless the group's own {@code share.auto.offset.reset} is set, the library sets it to the
 * application's {@code auto.offset.reset} ({@code earliest} unless configured), as reliable consumer groups do.
 */
final class ShareGroups {

	private static final Logger logger = LoggerFactory.getLogger(ShareGroups.class);

	/** Kafka's default {@code group.share.delivery.count.limit}. */
	static final int DEFAULT_DELIVERY_COUNT_LIMIT = 5;

	static final String DELIVERY_COUNT_LIMIT = "group.share.delivery.count.limit";

	static final String AUTO_OFFSET_RESET = "share.auto.offset.reset";

	private static final long TIMEOUT_SECONDS = 10;

	private final Supplier<Admin> admin;

	private final String autoOffsetReset;

	private final Map<String, Boolean> prepared = new ConcurrentHashMap<>();

	private volatile @Nullable Integer deliveryLimit;

	/**
	 * @param admin the library's admin client
	 * @param autoOffsetReset where a new group starts, {@code earliest} or {@code latest}
	 */
	ShareGroups(Supplier<Admin> admin, String autoOffsetReset) {
		this.admin = admin;
		this.autoOffsetReset = autoOffsetReset;
	}

	/**
	 * Prepare a group for its first consumer.
	 * @param listener the listener id, for messages
	 * @param group the share group
	 * @return the broker's delivery-count limit
	 * @throws ReliableKafkaConfigurationException when the cluster has share groups off
	 */
	int prepare(String listener, String group) {
		Admin client = this.admin.get();
		if (!checkShareGroupsOn(client, listener)) {
			return DEFAULT_DELIVERY_COUNT_LIMIT; // the cluster did not answer: start, and let the consumers wait for it
		}
		int limit = deliveryLimit(client, listener);
		if (this.prepared.putIfAbsent(group, Boolean.TRUE) == null) {
			startFrom(client, listener, group);
		}
		return limit;
	}

	/**
	 * Check that the cluster has share groups on.
	 * @return whether the cluster answered
	 * @throws ReliableKafkaConfigurationException when it has them off
	 */
	private boolean checkShareGroupsOn(Admin client, String listener) {
		Map<String, FinalizedVersionRange> features;
		try {
			features = client.describeFeatures().featureMetadata().get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
				.finalizedFeatures();
		}
		catch (ExecutionException | java.util.concurrent.TimeoutException ex) {
			logger.warn("Could not read the cluster's features for share-group listener '{}' ({}); starting with "
					+ "Kafka's default delivery-count limit, {}", listener, KafkaErrors.describe(ex),
					DEFAULT_DELIVERY_COUNT_LIMIT);
			return false;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
		FinalizedVersionRange share = features.get("share.version");
		if (share == null || share.maxVersionLevel() < 1) {
			throw new ReliableKafkaConfigurationException("Reliable listener '" + listener + "' reads in a share "
					+ "group, but the Kafka cluster has share groups off (feature share.version is "
					+ ((share != null) ? share.maxVersionLevel() : "not set") + ").",
					"Turn share groups on (Kafka 4.2+: kafka-features.sh upgrade --feature share.version=1), or use "
							+ "group = GroupType.CLASSIC.");
		}
		return true;
	}

	private int deliveryLimit(Admin client, String listener) {
		Integer known = this.deliveryLimit;
		if (known != null) {
			return known;
		}
		try {
			Collection<Node> nodes = client.describeCluster().nodes().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
			ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER,
					String.valueOf(nodes.iterator().next().id()));
			Config config = client.describeConfigs(List.of(broker)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
				.get(broker);
			ConfigEntry entry = config.get(DELIVERY_COUNT_LIMIT);
			int limit = (entry != null && entry.value() != null) ? Integer.parseInt(entry.value().trim())
					: DEFAULT_DELIVERY_COUNT_LIMIT;
			this.deliveryLimit = limit;
			return limit;
		}
		catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException ex) {
			logger.warn("Could not read {} from the broker for share-group listener '{}' ({}); assuming Kafka's "
					+ "default, {}", DELIVERY_COUNT_LIMIT, listener, KafkaErrors.describe(ex),
					DEFAULT_DELIVERY_COUNT_LIMIT);
			return DEFAULT_DELIVERY_COUNT_LIMIT;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return DEFAULT_DELIVERY_COUNT_LIMIT;
		}
	}

	private void startFrom(Admin client, String listener, String group) {
		ConfigResource resource = new ConfigResource(ConfigResource.Type.GROUP, group);
		try {
			Config config = client.describeConfigs(List.of(resource)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
				.get(resource);
			ConfigEntry entry = (config != null) ? config.get(AUTO_OFFSET_RESET) : null;
			if (entry != null && entry.source() == ConfigEntry.ConfigSource.DYNAMIC_GROUP_CONFIG) {
				return; // the group's own setting: kept
			}
			client.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
					new ConfigEntry(AUTO_OFFSET_RESET, this.autoOffsetReset), AlterConfigOp.OpType.SET))))
				.all()
				.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
			logger.info("Share group '{}' of listener '{}' starts from the {} record ({}={} set on the group)", group,
					listener, this.autoOffsetReset, AUTO_OFFSET_RESET, this.autoOffsetReset);
		}
		catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException ex) {
			logger.warn("Could not set {}={} on share group '{}' of listener '{}' ({}): a new share group starts from "
					+ "the latest record and skips those written before it first reads; set it with kafka-configs.sh "
					+ "--entity-type groups", AUTO_OFFSET_RESET, this.autoOffsetReset, group, listener,
					KafkaErrors.describe(ex));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
