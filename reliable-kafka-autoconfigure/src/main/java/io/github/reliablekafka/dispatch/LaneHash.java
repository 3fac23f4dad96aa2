package io.github.reliablekafka.dispatch;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.utils.Utils;

/**
 * Which lane of its partition a key goes to.
 */
final class LaneHash {

	private LaneHash() {
	}

	/**
	 * The lane of a record: by its key with {@link Ordering#KEY}, else (no key, or {@link Ordering#NONE}) by its
	 * offset, spreading the records over the lanes.
	 * @param record the record
	 * @param ordering the listener's ordering
	 * @param lanes the lanes of its partition
	 * @return the lane, from 0 to {@code lanes - 1}
	 */
	static int laneOf(ConsumerRecord<String, ?> record, Ordering ordering, int lanes) {
		if (lanes == 1) {
			return 0;
		}
		if (ordering == Ordering.KEY && record.key() != null) {
			return laneOf(record.key(), lanes);
		}
		return (int) (record.offset() % lanes);
	}

	/**
	 * The lane of a key. Kafka's default partitioner puts a key on partition {@code murmur2(key) % partitions}, so
	 * within one partition {@code murmur2(key) % workers} would leave lanes empty whenever the two counts share a
	 * factor (12 partitions and 16 lanes: only 4 lanes used). The partitioner's hash is therefore remixed (murmur3's
	 * finalizer, a bijection) before the modulo, so that the keys of every partition spread over all its lanes.
	 * @param key the record key
	 * @param workers the lanes per partition
	 * @return the lane, from 0 to {@code workers - 1}
	 */
	static int laneOf(String key, int workers) {
		int h = Utils.murmur2(key.getBytes(StandardCharsets.UTF_8));
		h ^= h >>> 16;
		h *= 0x85ebca6b;
		h ^= h >>> 13;
		h *= 0xc2b2ae35;
		h ^= h >>> 16;
		return Utils.toPositive(h) % workers;
	}

}
