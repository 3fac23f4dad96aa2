package io.github.reliablekafka.observe;

import java.util.Map;

/**
 * What a replay did.
 *
 * @param listener the listener id
 * @param group its consumer group
 * @param from where the replay started
 * @param offsets each partition ({@code topic-partition}) and the offset the group starts from again
 * @param records how many records the group will read again (up to the end offsets at the time of the replay)
 * @param guardBypassed whether those records run without the idempotency guard
 * @param how how the offsets were moved
 * @param heldElsewhere partitions other members of the group hold, with the offset they should replay from; not
 * moved by this replay
 */
public record ReplayResult(String listener, String group, ReplayFrom from, Map<String, Long> offsets, long records,
		boolean guardBypassed, How how, Map<String, Long> heldElsewhere) {

	/** How a replay moved the offsets. */
	public enum How {

		/** The running listener's consumers sought in place. */
		SEEK_IN_PLACE,

		/** The stopped listener's group had its offsets altered. */
		ALTER_OFFSETS,

		/** The running listener could not seek: it was stopped, its group's offsets altered, and started again. */
		RESTART

	}

}
