package io.github.reliablekafka.dispatch;

import java.util.Map;

/**
 * The commit offsets one partition acknowledged whose commit the container has not asked for yet, oldest first, and
 * their claim in the map shared by the partitions of the same consumer: an offset waits in one partition at a time,
 * so that the container's request for a commit's metadata, which names the offset and not the partition, names one
 * partition. Guarded by the partition's lock.
 */
final class UncommittedOffsets {

	/** Offsets remembered until the container commits them; no more are acknowledged while this many wait. */
	static final int CAPACITY = 64;

	private final long[] offsets = new long[CAPACITY];

	private int count;

	private final Map<Long, PartitionLanes> claims;

	private final PartitionLanes owner;

	UncommittedOffsets(PartitionLanes owner, Map<Long, PartitionLanes> claims) {
		this.owner = owner;
		this.claims = claims;
	}

	/**
	 * Claim an offset before acknowledging the record before it.
	 * @param offset the offset the container will commit
	 * @return whether it may be acknowledged now: not when {@link #CAPACITY} wait already (the consumer is busy or
	 * blocked) or another partition of the consumer waits for the same offset
	 */
	boolean claim(long offset) {
		if (this.count == CAPACITY || this.claims.putIfAbsent(offset, this.owner) != null) {
			return false;
		}
		this.offsets[this.count++] = offset;
		return true;
	}

	/**
	 * The container asks for the commit of {@code offset}: when it is this partition's, forget it and the older ones
	 * (their commits are superseded).
	 * @param offset the offset
	 * @return whether it is this partition's
	 */
	boolean committing(long offset) {
		for (int i = 0; i < this.count; i++) {
			if (this.offsets[i] == offset) {
				for (int j = 0; j <= i; j++) {
					this.claims.remove(this.offsets[j], this.owner);
				}
				int left = this.count - i - 1;
				System.arraycopy(this.offsets, i + 1, this.offsets, 0, left);
				this.count = left;
				return true;
			}
		}
		return false;
	}

	/** Forget every offset: the partition is gone and its commits are done. */
	void release() {
		for (int i = 0; i < this.count; i++) {
			this.claims.remove(this.offsets[i], this.owner);
		}
		this.count = 0;
	}

}
