package io.github.reliablekafka.observe;

import java.time.Instant;

import org.springframework.util.Assert;

/**
 * Where a replay starts: the beginning of each partition, an offset, or the first record at or after a timestamp.
 *
 * @param position which kind
 * @param value the offset or the epoch milliseconds; 0 for the beginning
 */
public record ReplayFrom(Position position, long value) {

	/** The kinds of start. */
	public enum Position {

		/** The earliest offset still on the log. */
		BEGINNING,

		/** An offset, clamped to what is on the log. */
		OFFSET,

		/** The first record whose timestamp is at or after a time (the end when there is none). */
		TIMESTAMP

	}

	public ReplayFrom {
		Assert.notNull(position, "position must not be null");
		Assert.isTrue(value >= 0, "offset and timestamp must not be negative");
	}

	/**
	 * Replay everything still on the log.
	 * @return the start
	 */
	public static ReplayFrom beginning() {
		return new ReplayFrom(Position.BEGINNING, 0);
	}

	/**
	 * Replay from an offset.
	 * @param offset the offset
	 * @return the start
	 */
	public static ReplayFrom offset(long offset) {
		return new ReplayFrom(Position.OFFSET, offset);
	}

	/**
	 * Replay the records written at or after a time.
	 * @param time the time
	 * @return the start
	 */
	public static ReplayFrom timestamp(Instant time) {
		return new ReplayFrom(Position.TIMESTAMP, time.toEpochMilli());
	}

}
