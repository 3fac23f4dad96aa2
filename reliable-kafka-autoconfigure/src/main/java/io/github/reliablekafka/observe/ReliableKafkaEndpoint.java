package io.github.reliablekafka.observe;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import io.github.reliablekafka.dispatch.KeyOrderedDispatcher;
import io.github.reliablekafka.doctor.DoctorReport;
import io.github.reliablekafka.doctor.StartupDoctor;
import io.github.reliablekafka.outbox.OutboxOperations;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * The {@code reliablekafka} actuator endpoint. Reading it shows the durability doctor's report, the listeners, the
 * outbox, the dispatchers and the consumer lag; reading {@code reliablekafka/{rk-id}} shows where one message is (see
 * {@link MessageLookup}). Its write operations replay a listener's group (see {@link ReplayOperations}) and re-queue
 * one message's failed outbox row ({@code POST reliablekafka/{rk-id}}); by Spring Boot's conventions the endpoint is
 * read-only unless {@code management.endpoint.reliablekafka.access=unrestricted}.
 */
@Endpoint(id = "reliablekafka", defaultAccess = Access.READ_ONLY)
public class ReliableKafkaEndpoint {

	private final @Nullable StartupDoctor doctor;

	private final @Nullable KafkaListenerEndpointRegistry registry;

	private final @Nullable OutboxOperations outbox;

	private final Supplier<List<KeyOrderedDispatcher>> dispatchers;

	private final Supplier<Set<String>> shareGroups;

	private final @Nullable ConsumerLagMonitor lag;

	private final @Nullable ReplayOperations replay;

	private final @Nullable MessageLookup lookup;

	/**
	 * Create the endpoint; any part may be missing.
	 * @param doctor the startup check
	 * @param registry the listener containers
	 * @param outbox the outbox
	 * @param dispatchers the key-ordered dispatchers
	 * @param lag the lag monitor
	 * @param replay the replay operations
	 */
	public ReliableKafkaEndpoint(@Nullable StartupDoctor doctor, @Nullable KafkaListenerEndpointRegistry registry,
			@Nullable OutboxOperations outbox, Supplier<List<KeyOrderedDispatcher>> dispatchers,
			@Nullable ConsumerLagMonitor lag, @Nullable ReplayOperations replay) {
		this(doctor, registry, outbox, dispatchers, Set::of, lag, replay, null);
	}

	/**
	 * Create the endpoint of an application that may have share-group listeners; any part may be missing.
	 * @param doctor the startup check
	 * @param registry the listener containers
	 * @param outbox the outbox
	 * @param dispatchers the key-ordered dispatchers
	 * @param shareGroups the share groups of the share-group listeners
	 * @param lag the lag monitor
	 * @param replay the replay operations
	 * @param lookup the message look-up
	 */
	public ReliableKafkaEndpoint(@Nullable StartupDoctor doctor, @Nullable KafkaListenerEndpointRegistry registry,
			@Nullable OutboxOperations outbox, Supplier<List<KeyOrderedDispatcher>> dispatchers,
			Supplier<Set<String>> shareGroups, @Nullable ConsumerLagMonitor lag, @Nullable ReplayOperations replay,
			@Nullable MessageLookup lookup) {
		this.shareGroups = shareGroups;
		this.doctor = doctor;
		this.registry = registry;
		this.outbox = outbox;
		this.dispatchers = dispatchers;
		this.lag = lag;
		this.replay = replay;
		this.lookup = lookup;
	}

	/**
	 * Show the library's state.
	 * @return doctor, listeners, outbox, dispatch and lag
	 */
	@ReadOperation
	public Map<String, Object> report() {
		Map<String, Object> report = new LinkedHashMap<>();
		report.put("doctor", doctor());
		report.put("listeners", listeners());
		if (this.outbox != null) {
			Map<String, Object> outboxState = new LinkedHashMap<>();
			try {
				outboxState.put("pending", this.outbox.pendingCount());
				outboxState.put("oldestPendingAge", this.outbox.oldestPendingAge().toString());
				outboxState.put("failed", this.outbox.failed(100).size());
			}
			catch (RuntimeException ex) {
				outboxState.put("error", ex.getClass().getSimpleName() + ": " + ex.getMessage());
			}
			report.put("outbox", outboxState);
		}
		List<Map<String, Object>> dispatch = new ArrayList<>();
		for (KeyOrderedDispatcher dispatcher : this.dispatchers.get()) {
			Map<String, Object> state = new LinkedHashMap<>();
			state.put("listener", dispatcher.listener());
			state.put("inFlight", dispatcher.monitor().inFlight());
			state.put("inFlightBytes", dispatcher.monitor().inFlightBytes());
			state.put("deepestLane", dispatcher.monitor().maxLaneDepth());
			state.put("oldestAgeSeconds", dispatcher.monitor().oldestAgeSeconds());
			dispatch.add(state);
		}
		report.put("dispatch", dispatch);
		if (this.lag != null) {
			report.put("lag", this.lag.snapshot());
		}
		return report;
	}

	/**
	 * Replay a listener's consumer group.
	 * @param listener the listener id
	 * @param from {@code beginning}, {@code offset} or {@code timestamp}
	 * @param offset the offset, with {@code from=offset}
	 * @param timestamp an ISO-8601 instant or epoch milliseconds, with {@code from=timestamp}
	 * @param topic with {@code partition}: replay that partition only
	 * @param partition with {@code topic}: replay that partition only
	 * @param bypassGuard whether the replayed records run without the idempotency guard (default false)
	 * @return what was done
	 */
	@WriteOperation
	public ReplayResult replay(String listener, String from, @Nullable Long offset, @Nullable String timestamp,
			@Nullable String topic, @Nullable Integer partition, @Nullable Boolean bypassGuard) {
		if (this.replay == null) {
			throw new IllegalStateException("Replay needs a KafkaAdmin and the listener endpoint registry");
		}
		ReplayFrom start = switch (from.trim().toLowerCase(Locale.ROOT)) {
			case "beginning" -> ReplayFrom.beginning();
			case "offset" -> {
				if (offset == null) {
					throw new IllegalArgumentException("from=offset needs offset");
				}
				yield ReplayFrom.offset(offset);
			}
			case "timestamp" -> ReplayFrom.timestamp(instant(timestamp));
			default -> throw new IllegalArgumentException("from must be beginning, offset or timestamp, not " + from);
		};
		List<TopicPartition> only = null;
		if (topic != null || partition != null) {
			if (topic == null || partition == null) {
				throw new IllegalArgumentException("topic and partition go together");
			}
			only = List.of(new TopicPartition(topic, partition));
		}
		return this.replay.replay(listener, start, only, Boolean.TRUE.equals(bypassGuard));
	}

	/**
	 * Show where one message is: its outbox row and which consumer groups' ledgers hold it done.
	 * @param messageId the {@code rk-id}
	 * @param groups more consumer groups to ask, comma-separated (the application's guarded groups are always asked)
	 * @return what the stores hold
	 */
	@ReadOperation
	public MessageTrail message(@Selector String messageId, @Nullable String groups) {
		try {
			return lookup().find(messageId, (groups != null) ? names(groups) : List.of());
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidEndpointRequestException(ex.getMessage(), ex.getMessage());
		}
	}

	/**
	 * Put one message's FAILED outbox row back in line.
	 * @param messageId the {@code rk-id}
	 * @return what was done
	 */
	@WriteOperation
	public MessageLookup.Requeued requeue(@Selector String messageId) {
		try {
			return lookup().requeue(messageId);
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidEndpointRequestException(ex.getMessage(), ex.getMessage());
		}
	}

	private MessageLookup lookup() {
		if (this.lookup == null) {
			throw new IllegalStateException("This application has no message look-up");
		}
		return this.lookup;
	}

	private static List<String> names(String groups) {
		List<String> names = new ArrayList<>();
		for (String name : groups.split(",")) {
			if (!name.isBlank()) {
				names.add(name.trim());
			}
		}
		return names;
	}

	private static Instant instant(@Nullable String timestamp) {
		if (timestamp == null || timestamp.isBlank()) {
			throw new IllegalArgumentException("from=timestamp needs timestamp (ISO-8601 or epoch milliseconds)");
		}
		try {
			return Instant.ofEpochMilli(Long.parseLong(timestamp.trim()));
		}
		catch (NumberFormatException ex) {
			try {
				return Instant.parse(timestamp.trim());
			}
			catch (DateTimeParseException notIso) {
				throw new IllegalArgumentException("timestamp must be ISO-8601 (2026-11-22T10:15:30Z) or epoch "
						+ "milliseconds, not " + timestamp, notIso);
			}
		}
	}

	private Map<String, Object> doctor() {
		Map<String, Object> state = new LinkedHashMap<>();
		if (this.doctor == null) {
			state.put("mode", "absent");
			return state;
		}
		state.put("mode", this.doctor.mode().name().toLowerCase(Locale.ROOT));
		DoctorReport found = this.doctor.report();
		if (found != null) {
			state.put("brokers", found.brokers());
			state.put("developmentCluster", found.developmentCluster());
			state.put("checks", found.checks());
		}
		return state;
	}

	private List<Map<String, Object>> listeners() {
		List<Map<String, Object>> listeners = new ArrayList<>();
		if (this.registry == null) {
			return listeners;
		}
		Set<String> shares = this.shareGroups.get();
		for (MessageListenerContainer container : this.registry.getListenerContainers()) {
			Map<String, Object> state = new LinkedHashMap<>();
			state.put("id", container.getListenerId());
			state.put("group", container.getGroupId());
			boolean share = shares.contains(container.getGroupId());
			state.put("groupType", share ? "share" : "classic");
			String[] topics = container.getContainerProperties().getTopics();
			state.put("topics", (topics != null) ? List.of(topics) : List.of());
			state.put("running", container.isRunning());
			if (!share) { // a share group's consumers share every partition: no assignment, no pause
				state.put("pauseRequested", container.isPauseRequested());
				state.put("assigned", String.valueOf(container.getAssignedPartitions()));
			}
			listeners.add(state);
		}
		return listeners;
	}

}
