package io.github.reliablekafka.observe;

/**
 * The lag of one consumer group or share group on one partition.
 *
 * @param group the consumer group
 * @param topic the topic
 * @param partition the partition
 * @param committed the group's committed offset (a share group's start offset), or {@code -1} when it has none (it
 * starts from the earliest)
 * @param end the partition's end offset
 * @param lag records between the committed offset (or the earliest, when none) and the end
 */
public record PartitionLag(String group, String topic, int partition, long committed, long end, long lag) {
}
