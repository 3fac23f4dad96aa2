package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Warns when a listened topic keeps records longer than idempotency keys are remembered: a record redelivered or
 * replayed after its key expired would run again.
 */
final class RetentionCheck {

	private RetentionCheck() {
	}

	/**
	 * Compare topics' {@code retention.ms} with the guard's TTL.
	 * @param admin a Kafka admin client
	 * @param topics the topics reliable listeners read
	 * @param ttl how long keys are remembered
	 * @return one warning per topic that keeps records longer, empty when none does
	 * @throws Exception when the topics cannot be described
	 */
	static List<String> warnings(Admin admin, Collection<String> topics, Duration ttl) throws Exception {
		List<ConfigResource> resources = topics.stream()
			.map((topic) -> new ConfigResource(ConfigResource.Type.TOPIC, topic))
			.toList();
		List<String> warnings = new ArrayList<>();
		admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS).forEach((resource, config) -> {
			long retention = retentionMillis(config);
			if (retention < 0 || retention > ttl.toMillis()) {
				warnings.add("Topic " + resource.name() + " keeps records for "
						+ ((retention < 0) ? "ever" : Duration.ofMillis(retention).toString()) + " (retention.ms) but "
						+ "idempotency keys are remembered for " + ttl + " (reliable.kafka.consumer.idempotency.ttl): "
						+ "a record redelivered or replayed after that would run again. Raise the TTL or lower the "
						+ "topic's retention.");
			}
		});
		return warnings;
	}

	private static long retentionMillis(Config config) {
		ConfigEntry entry = config.get(TopicConfig.RETENTION_MS_CONFIG);
		return (entry != null && entry.value() != null) ? Long.parseLong(entry.value()) : 604_800_000L;
	}

}
