package io.github.reliablekafka.consumer;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.reliablekafka.dispatch.KeyOrderedDispatcher;
import io.github.reliablekafka.idempotency.IdempotencyKeyStrategy;

/**
 * The reliable listeners of an application, as their container factories create them: the topics they listen to, the
 * dispatchers of those with key-ordered dispatch, the share groups of those in share groups, the consumer groups of
 * those behind the idempotency guard, and the records operators replay without the idempotency guard. A bean, injected where these are needed (the actuator endpoint, replay, the idempotency retention check), so that
 * nothing looks the container factory up by name.
 */
public final class ReliableListeners {

	private final Set<String> topics = ConcurrentHashMap.newKeySet();

	private final List<KeyOrderedDispatcher> dispatchers = new CopyOnWriteArrayList<>();

	private final Set<String> shareGroups = ConcurrentHashMap.newKeySet();

	/** Per guarded consumer group, per topic ({@code *} for a pattern), how its listeners key records. */
	private final Map<String, Map<String, IdempotencyKeyStrategy>> guardedGroups = new ConcurrentHashMap<>();

	private final GuardBypass guardBypass = new GuardBypass();

	/**
	 * Return the topics of the listeners created so far (not patterns).
	 * @return the topics
	 */
	public Set<String> topics() {
		return Set.copyOf(this.topics);
	}

	/**
	 * Return the dispatchers of the listeners created so far with key-ordered dispatch.
	 * @return the dispatchers
	 */
	public List<KeyOrderedDispatcher> dispatchers() {
		return List.copyOf(this.dispatchers);
	}

	/**
	 * Return the share groups of the listeners created so far with {@code group = GroupType.SHARE}.
	 * @return the share groups
	 */
	public Set<String> shareGroups() {
		return Set.copyOf(this.shareGroups);
	}

	/**
	 * Return the consumer groups (classic and share) of the listeners created so far behind the idempotency guard:
	 * the groups whose ledgers say which records they consumed, each with how its listeners key records per topic
	 * ({@code *} for listeners subscribed by pattern). Where two listeners of a group read one topic and key
	 * differently, the topic has the key that is not the message id.
	 * @return the groups
	 */
	public Map<String, Map<String, IdempotencyKeyStrategy>> guardedGroups() {
		Map<String, Map<String, IdempotencyKeyStrategy>> copy = new TreeMap<>();
		this.guardedGroups.forEach((group, topics) -> copy.put(group, Map.copyOf(topics)));
		return copy;
	}

	/**
	 * Return the records operators replay without the idempotency guard.
	 * @return the bypass of the reliable listeners
	 */
	public GuardBypass guardBypass() {
		return this.guardBypass;
	}

	void listens(List<String> topics) {
		this.topics.addAll(topics);
	}

	void readsInShareGroup(String group) {
		this.shareGroups.add(group);
	}

	void guards(String group, List<String> topics, IdempotencyKeyStrategy strategy) {
		Map<String, IdempotencyKeyStrategy> byTopic = this.guardedGroups.computeIfAbsent(group,
				(name) -> new ConcurrentHashMap<>());
		for (String topic : topics.isEmpty() ? List.of("*") : topics) {
			byTopic.merge(topic, strategy, (was, now) -> (was != IdempotencyKeyStrategy.MESSAGE_ID) ? was : now);
		}
	}

	void dispatches(KeyOrderedDispatcher dispatcher) {
		this.dispatchers.add(dispatcher);
	}

}
