package io.github.reliablekafka.internal;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.ConsumerSeekAware.ConsumerSeekCallback;

/**
 * The seek callbacks of a listener's consumers, per assigned partition, for seeking from any thread. Only the
 * callback a consumer thread registers ({@code registerSeekCallback}) queues seeks for that thread; the one passed
 * with an assignment seeks at once and may be used on the consumer thread only, so the registered one is kept.
 */
public final class SeekCallbacks {

	private final Map<TopicPartition, ConsumerSeekCallback> byPartition = new ConcurrentHashMap<>();

	private final ThreadLocal<ConsumerSeekCallback> registered = new ThreadLocal<>();

	/**
	 * A consumer thread registered its callback.
	 * @param callback the callback
	 */
	public void register(ConsumerSeekCallback callback) {
		this.registered.set(callback);
	}

	/** The consumer thread stops. */
	public void unregister() {
		this.registered.remove();
	}

	/**
	 * The calling consumer thread was assigned partitions.
	 * @param partitions the partitions
	 */
	public void assigned(Collection<TopicPartition> partitions) {
		ConsumerSeekCallback callback = this.registered.get();
		if (callback != null) {
			partitions.forEach((partition) -> this.byPartition.put(partition, callback));
		}
	}

	/**
	 * Partitions were revoked.
	 * @param partitions the partitions
	 */
	public void revoked(Collection<TopicPartition> partitions) {
		partitions.forEach(this.byPartition::remove);
	}

	/**
	 * Return the callback of a partition's consumer.
	 * @param partition the partition
	 * @return its callback, or {@code null} when it is not assigned here
	 */
	public @Nullable ConsumerSeekCallback of(TopicPartition partition) {
		return this.byPartition.get(partition);
	}

	/**
	 * Return the partitions assigned here.
	 * @return the partitions
	 */
	public Set<TopicPartition> partitions() {
		return Set.copyOf(this.byPartition.keySet());
	}

}
