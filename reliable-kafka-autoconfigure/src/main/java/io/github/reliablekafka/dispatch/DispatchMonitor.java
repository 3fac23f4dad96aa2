package io.github.reliablekafka.dispatch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.reliablekafka.internal.LogText;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a dispatcher's state looks like from outside: the numbers its gauges and the actuator endpoint show, and the
 * warning about a record that holds a partition's commit frontier back too long.
 */
public final class DispatchMonitor {

	private static final Logger logger = LoggerFactory.getLogger(KeyOrderedDispatcher.class);

	private final String listener;

	private final DispatchSettings settings;

	private final Map<TopicPartition, PartitionLanes> partitions;

	private final AtomicLong bytesInFlight;

	private final Map<TopicPartition, Long> lastFrontierWarning = new ConcurrentHashMap<>();

	DispatchMonitor(String listener, DispatchSettings settings, Map<TopicPartition, PartitionLanes> partitions,
			AtomicLong bytesInFlight) {
		this.listener = listener;
		this.settings = settings;
		this.partitions = partitions;
		this.bytesInFlight = bytesInFlight;
	}

	/** The id of the listener. */
	public String listener() {
		return this.listener;
	}

	/** Records dispatched and not finished, across the container's partitions. */
	public int inFlight() {
		int total = 0;
		for (PartitionLanes state : this.partitions.values()) {
			total += state.inFlight();
		}
		return total;
	}

	/** Bytes of the records dispatched and not finished. */
	public long inFlightBytes() {
		return this.bytesInFlight.get();
	}

	/** The deepest lane's queue, across the container's partitions. */
	public int maxLaneDepth() {
		int max = 0;
		for (PartitionLanes state : this.partitions.values()) {
			max = Math.max(max, state.maxLaneDepth());
		}
		return max;
	}

	/** Seconds since the oldest unfinished record was dispatched; 0 when none. */
	public double oldestAgeSeconds() {
		long now = System.nanoTime();
		long oldest = 0;
		for (PartitionLanes state : this.partitions.values()) {
			oldest = Math.max(oldest, state.oldestUnfinishedNanos(now));
		}
		return oldest / 1e9;
	}

	/** Records of a partition finished beyond its commit frontier. */
	public int commitGap(TopicPartition partition) {
		PartitionLanes state = this.partitions.get(partition);
		return (state != null) ? state.finishedBeyondFrontier() : 0;
	}

	/** Offsets named as finished beyond a partition's commit frontier in the metadata of its latest commit. */
	public long commitMapSize(TopicPartition partition) {
		PartitionLanes state = this.partitions.get(partition);
		return (state != null) ? state.commitMapSize : 0;
	}

	/** Whether the dispatcher asked the container to pause a partition. */
	public boolean isPaused(TopicPartition partition) {
		PartitionLanes state = this.partitions.get(partition);
		return state != null && state.paused;
	}

	/**
	 * Log (at most once a minute per partition) the record that holds a partition's frontier back when it is older
	 * than the warning threshold. Called periodically.
	 */
	void checkFrontiers() {
		long now = System.nanoTime();
		for (PartitionLanes state : this.partitions.values()) {
			DispatchedRecord head = state.frontierRecord();
			if (head == null || now - head.dispatchedNanos < this.settings.frontierWarning().toNanos()) {
				continue;
			}
			Long last = this.lastFrontierWarning.get(state.partition);
			if (last != null && now - last < TimeUnit.MINUTES.toNanos(1)) {
				continue;
			}
			this.lastFrontierWarning.put(state.partition, now);
			logger.warn("Listener '{}': record {}@{} with key '{}' has held the commit frontier of {} back for {} s "
					+ "({} record(s) finished behind it wait to be committed)", this.listener, state.partition,
					head.record.offset(), LogText.of(head.record.key()), state.partition,
					TimeUnit.NANOSECONDS.toSeconds(now - head.dispatchedNanos), state.finishedBeyondFrontier());
		}
	}

	/** A partition was given up. */
	void forget(TopicPartition partition) {
		this.lastFrontierWarning.remove(partition);
	}

}
