package io.github.reliablekafka.consumer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Records an operator chose to replay without the idempotency guard: per consumer group and partition, the offsets
 * below a bound (the end of the partition when the replay was asked for) run without the guard. Records beyond the
 * bound are guarded as usual.
 */
public final class GuardBypass {

	private final Map<String, Map<TopicPartition, Long>> until = new ConcurrentHashMap<>();

	/**
	 * Let records of a group's partition below an offset run without the guard.
	 * @param group the consumer group
	 * @param partitions each partition and the offset below which its records are not guarded
	 */
	public void bypass(String group, Map<TopicPartition, Long> partitions) {
		this.until.computeIfAbsent(group, (g) -> new ConcurrentHashMap<>()).putAll(partitions);
	}

	/**
	 * Return whether a record runs without the guard.
	 * @param group the consumer group
	 * @param record the record
	 * @return whether an operator replayed it without the guard
	 */
	public boolean covers(String group, ConsumerRecord<?, ?> record) {
		Map<TopicPartition, Long> partitions = this.until.get(group);
		if (partitions == null || partitions.isEmpty()) {
			return false;
		}
		Long bound = partitions.get(new TopicPartition(record.topic(), record.partition()));
		return bound != null && record.offset() < bound;
	}

}
