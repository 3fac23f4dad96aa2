package io.github.reliablekafka.observe;

import java.time.Instant;
import java.util.List;

/**
 * The consumer lag of the application's groups at one moment, and the warnings found with it.
 *
 * @param at when it was taken
 * @param partitions the lag per group and partition
 * @param warnings groups about to lose records to retention, or whose committed offsets may expire
 */
public record LagSnapshot(Instant at, List<PartitionLag> partitions, List<String> warnings) {

	/** A snapshot before the first refresh. */
	public static final LagSnapshot EMPTY = new LagSnapshot(Instant.EPOCH, List.of(), List.of());

	/**
	 * Return the largest lag of any partition.
	 * @return the lag, 0 when there is none
	 */
	public long maxLag() {
		return this.partitions.stream().mapToLong(PartitionLag::lag).max().orElse(0);
	}

}
