package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * How delayed delivery works, resolved from {@code reliable.kafka.delay.*}.
 *
 * @param tiers the tier delays, positive, no duplicates
 * @param topicPrefix put before each tier's name to name its topic
 * @param deadLetterTopic where records without a readable plan go
 * @param partitions partitions of each topic created
 * @param replicationFactor replication factor of each topic created, or {@code -1} for 3 (at most the cluster's size)
 * @param createAtStartup whether to create the topics at startup rather than on first use
 * @param topicsTimeout how long one look for, or creation of, the topics may take
 * @param allowedTargets the topics a delayed record may go to (whole names as regular expressions); empty for any
 * topic that is not a delay topic
 * @param maxDelay the longest delay
 * @param forwarderGroupId the forwarders' consumer group, or {@code null} when this application runs no forwarder
 * @param sendTimeout how long to wait for Kafka to confirm a tier record or a forward
 */
public record DelaySettings(List<Duration> tiers, String topicPrefix, String deadLetterTopic, int partitions,
		short replicationFactor, boolean createAtStartup, Duration topicsTimeout, List<Pattern> allowedTargets,
		Duration maxDelay, @Nullable String forwarderGroupId, Duration sendTimeout) {
}
