package io.github.reliablekafka.dispatch;

import java.util.Arrays;

/**
 * A set of a partition's offsets kept as ascending runs of consecutive offsets: the records finished beyond a commit
 * position. Built by adding offsets (or ranges) in ascending order; read by membership. Not thread-safe.
 */
final class OffsetRuns {

	/** Run {@code i} is {@code [starts[i], ends[i]]}, inclusive; runs ascend and neither touch nor overlap. */
	private long[] starts = new long[8];

	private long[] ends = new long[8];

	private int runs;

	private long size;

	/**
	 * Add an offset above every offset added so far (an offset at or below the last one is ignored).
	 * @param offset the offset
	 */
	void add(long offset) {
		addRange(offset, offset);
	}

	/**
	 * Add the offsets {@code from} to {@code to}, both included, above every offset added so far (the part at or
	 * below the last offset added is ignored).
	 * @param from the first offset
	 * @param to the last offset
	 */
	void addRange(long from, long to) {
		if (this.runs > 0) {
			long last = this.ends[this.runs - 1];
			from = Math.max(from, last + 1);
			if (from > to) {
				return;
			}
			if (from == last + 1) {
				this.ends[this.runs - 1] = to;
				this.size += to - from + 1;
				return;
			}
		}
		else if (from > to) {
			return;
		}
		if (this.runs == this.starts.length) {
			this.starts = Arrays.copyOf(this.starts, this.runs * 2);
			this.ends = Arrays.copyOf(this.ends, this.runs * 2);
		}
		this.starts[this.runs] = from;
		this.ends[this.runs] = to;
		this.runs++;
		this.size += to - from + 1;
	}

	/** Whether the offset is in the set. */
	boolean contains(long offset) {
		int low = 0;
		int high = this.runs - 1;
		while (low <= high) {
			int middle = (low + high) >>> 1;
			if (this.ends[middle] < offset) {
				low = middle + 1;
			}
			else if (this.starts[middle] > offset) {
				high = middle - 1;
			}
			else {
				return true;
			}
		}
		return false;
	}

	/** How many offsets the set holds. */
	long size() {
		return this.size;
	}

	boolean isEmpty() {
		return this.runs == 0;
	}

	/** The highest offset in the set; {@code -1} when empty. */
	long last() {
		return (this.runs == 0) ? -1 : this.ends[this.runs - 1];
	}

	/** How many runs of consecutive offsets the set holds. */
	int runs() {
		return this.runs;
	}

	long start(int run) {
		return this.starts[run];
	}

	long end(int run) {
		return this.ends[run];
	}

	/**
	 * Add the offsets of this set above {@code above} to another set.
	 * @param above the offset below which (and at which) nothing is copied
	 * @param into where they go (its offsets must all be below those copied)
	 */
	void copyAbove(long above, OffsetRuns into) {
		for (int i = 0; i < this.runs; i++) {
			if (this.ends[i] > above) {
				into.addRange(Math.max(this.starts[i], above + 1), this.ends[i]);
			}
		}
	}

	@Override
	public String toString() {
		StringBuilder text = new StringBuilder("[");
		for (int i = 0; i < this.runs; i++) {
			if (i > 0) {
				text.append(", ");
			}
			text.append(this.starts[i]);
			if (this.ends[i] != this.starts[i]) {
				text.append('-').append(this.ends[i]);
			}
		}
		return text.append(']').toString();
	}

}
