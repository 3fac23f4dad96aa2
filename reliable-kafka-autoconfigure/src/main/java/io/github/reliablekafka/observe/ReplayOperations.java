package io.github.reliablekafka.observe;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.github.reliablekafka.consumer.GuardBypass;
import io.github.reliablekafka.internal.PartitionSeeker;
import io.github.reliablekafka.internal.ShareGroupContainer;
import io.github.reliablekafka.internal.SharedAdmin;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * Replays a listener's consumer group from the beginning, an offset or a timestamp.
 *
 * <p>
 * A running reliable listener replays in place: each partition this instance holds is moved by its own consumer
 * (a seek before its next poll; a key-ordered listener first lets that partition's records in flight finish and
 * commits them). Partitions other members of the group hold are not moved here and are named in the result: replay
 * on those instances too. A stopped listener's group has its offsets altered through the {@link Admin} client, which
 * Kafka allows only for a group without members. A running listener that cannot seek (a plain
 * {@code @KafkaListener}) is stopped, its group's offsets altered, and started again. Replayed records pass the
 * idempotency guard, so what already ran is skipped, unless the operator asks to bypass it: then the records up to
 * the end offsets at the time of the replay run again.
 */
public final class ReplayOperations {

	private static final Logger logger = LoggerFactory.getLogger(ReplayOperations.class);

	private final KafkaListenerEndpointRegistry registry;

	private final SharedAdmin admin;

	private final @Nullable GuardBypass bypass;

	private final Duration timeout;

	/**
	 * Create the operations.
	 * @param registry the application's listener containers
	 * @param admin the admin client to ask the cluster with
	 * @param bypass the reliable listeners' guard bypass, or {@code null} when there are none
	 * @param timeout how long to wait for the cluster and for the group to empty
	 */
	public ReplayOperations(KafkaListenerEndpointRegistry registry, SharedAdmin admin,
			@Nullable GuardBypass bypass, Duration timeout) {
		this.registry = registry;
		this.admin = admin;
		this.bypass = bypass;
		this.timeout = timeout;
	}

	/**
	 * Return the ids of the listeners that can be replayed.
	 * @return the ids
	 */
	public Set<String> listeners() {
		return this.registry.getListenerContainerIds();
	}

	/**
	 * Replay every partition of a listener's topics.
	 * @param listener the listener id
	 * @param from where to start
	 * @param bypassGuard whether the replayed records run without the idempotency guard
	 * @return what was done
	 * @throws IllegalArgumentException when there is no such listener, or it listens to a pattern
	 * @throws IllegalStateException when the group still has members, or the cluster did not answer
	 */
	public ReplayResult replay(String listener, ReplayFrom from, boolean bypassGuard) {
		return replay(listener, from, null, bypassGuard);
	}

	/**
	 * Replay some partitions of a listener's topics.
	 * @param listener the listener id
	 * @param from where to start
	 * @param only the partitions to move, {@code null} for all of the listener's
	 * @param bypassGuard whether the replayed records run without the idempotency guard
	 * @return what was done
	 * @throws IllegalArgumentException when there is no such listener, it listens to a pattern, or a partition is
	 * not one of its
	 * @throws IllegalStateException when the group still has members, or the cluster did not answer
	 */
	public ReplayResult replay(String listener, ReplayFrom from, @Nullable Collection<TopicPartition> only,
			boolean bypassGuard) {
		MessageListenerContainer container = this.registry.getListenerContainer(listener);
		if (container == null) {
			throw new IllegalArgumentException("No listener '" + listener + "'; listeners: " + listeners());
		}
		if (container instanceof ShareGroupContainer) {
			throw new IllegalArgumentException("Listener '" + listener + "' reads in a share group, which has no "
					+ "committed offsets to move back: a share group's records are acknowledged one by one (reset a "
					+ "share group's start offset with kafka-share-groups.sh --reset-offsets while it has no members)");
		}
		String group = container.getGroupId();
		String[] topics = container.getContainerProperties().getTopics();
		if (group == null || topics == null || topics.length == 0) {
			throw new IllegalArgumentException("Listener '" + listener + "' has no consumer group or no named topics "
					+ "(patterns and manual assignments are not replayed)");
		}
		if (bypassGuard && this.bypass == null) {
			throw new IllegalArgumentException("Listener '" + listener + "' has no idempotency guard to bypass");
		}
		boolean running = container.isRunning();
		PartitionSeeker seeker = (container.getContainerProperties().getMessageListener() instanceof PartitionSeeker s)
				? s : null;
		boolean inPlace = running && seeker != null;
		boolean restart = running && seeker == null;
		if (restart) {
			logger.info("Replay of listener '{}' (group {}): stopping its container", listener, group);
			container.stop();
		}
		try {
			Admin admin = this.admin.get();
			if (!inPlace) {
				awaitEmpty(admin, group, listener);
			}
			Map<String, TopicDescription> descriptions = get(admin.describeTopics(List.of(topics)).allTopicNames());
			Map<TopicPartition, OffsetSpec> all = new HashMap<>();
			descriptions.values()
				.forEach((description) -> description.partitions()
					.forEach((partition) -> all.put(new TopicPartition(description.name(), partition.partition()),
							OffsetSpec.latest())));
			if (only != null) {
				for (TopicPartition partition : only) {
					if (!all.containsKey(partition)) {
						throw new IllegalArgumentException("Listener '" + listener + "' does not consume " + partition);
					}
				}
				all.keySet().retainAll(Set.copyOf(only));
			}
			Map<TopicPartition, ListOffsetsResultInfo> end = get(admin.listOffsets(all).all());
			Map<TopicPartition, ListOffsetsResultInfo> start = get(admin.listOffsets(respec(all, OffsetSpec.earliest())).all());
			Map<TopicPartition, Long> targets = new LinkedHashMap<>();
			switch (from.position()) {
				case BEGINNING -> start.forEach((partition, info) -> targets.put(partition, info.offset()));
				case OFFSET -> end.forEach((partition, info) -> targets.put(partition,
						Math.max(start.get(partition).offset(), Math.min(info.offset(), from.value()))));
				case TIMESTAMP -> get(admin.listOffsets(respec(all, OffsetSpec.forTimestamp(from.value()))).all())
					.forEach((partition, info) -> targets.put(partition,
							(info.offset() < 0) ? end.get(partition).offset() : info.offset()));
			}
			Map<String, Long> elsewhere = new TreeMap<>();
			if (inPlace) {
				// each partition this instance holds is moved by its own consumer; the others are held by other
				// members of the group, which must replay them themselves
				Set<TopicPartition> here = seeker.assignedPartitions();
				targets.entrySet().removeIf((entry) -> {
					if (!here.contains(entry.getKey())) {
						elsewhere.put(entry.getKey().toString(), entry.getValue());
						return true;
					}
					return false;
				});
			}
			if (bypassGuard) {
				Map<TopicPartition, Long> bounds = new HashMap<>();
				targets.keySet().forEach((partition) -> bounds.put(partition, end.get(partition).offset()));
				this.bypass.bypass(group, bounds);
			}
			if (inPlace) {
				for (Map.Entry<TopicPartition, Long> target : targets.entrySet()) {
					seeker.seek(target.getKey(), target.getValue(), this.timeout);
				}
			}
			else {
				get(admin.alterConsumerGroupOffsets(group, targets.entrySet()
					.stream()
					.collect(Collectors.toMap(Map.Entry::getKey, (entry) -> new OffsetAndMetadata(entry.getValue()))))
					.all());
			}
			long records = targets.entrySet().stream().mapToLong((entry) -> end.get(entry.getKey()).offset() - entry.getValue())
				.sum();
			Map<String, Long> offsets = new TreeMap<>();
			targets.forEach((partition, offset) -> offsets.put(partition.toString(), offset));
			logger.info("Replay of listener '{}' (group {}) from {}{}: {} records again, offsets {}{}{}", listener, group,
					from, inPlace ? " in place" : "", records, offsets,
					bypassGuard ? ", without the idempotency guard" : "",
					elsewhere.isEmpty() ? "" : "; held by other members, not moved: " + elsewhere);
			return new ReplayResult(listener, group, from, offsets, records, bypassGuard,
					inPlace ? ReplayResult.How.SEEK_IN_PLACE : restart ? ReplayResult.How.RESTART : ReplayResult.How.ALTER_OFFSETS,
					elsewhere);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while replaying listener '" + listener + "'", ex);
		}
		catch (IllegalArgumentException | IllegalStateException ex) {
			throw ex;
		}
		catch (Exception ex) {
			throw new IllegalStateException("Replay of listener '" + listener + "' failed: " + ex, ex);
		}
		finally {
			if (restart) {
				container.start();
			}
		}
	}

	private void awaitEmpty(Admin admin, String group, String listener) throws Exception {
		long deadline = System.nanoTime() + this.timeout.toNanos();
		while (true) {
			ConsumerGroupDescription description = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
			GroupState state = description.groupState();
			if (state == GroupState.EMPTY || state == GroupState.DEAD || description.members().isEmpty()) {
				return;
			}
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("Cannot replay listener '" + listener + "': its group " + group + " still has "
						+ description.members().size() + " member(s) ("
						+ description.members().stream().map((member) -> member.clientId() + "@" + member.host())
							.collect(Collectors.joining(", "))
						+ "). Kafka alters the offsets of a group without members only: stop the listener in the "
						+ "other application instances first.");
			}
			Thread.sleep(200);
		}
	}

	private static Map<TopicPartition, OffsetSpec> respec(Map<TopicPartition, OffsetSpec> partitions, OffsetSpec spec) {
		Map<TopicPartition, OffsetSpec> request = new HashMap<>();
		partitions.keySet().forEach((partition) -> request.put(partition, spec));
		return request;
	}

	private <T> T get(KafkaFuture<T> future) throws Exception {
		return future.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

}
