package io.github.reliablekafka.dispatch;

import java.io.ByteArrayOutputStream;
import java.util.Base64;
import java.util.List;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * The offsets finished beyond a commit position, written into the metadata of the offset commit and read back by the
 * partition's next owner, which then skips them.
 *
 * <p>
 * <b>Format:</b> {@code rk1:} followed by one or more entries separated by {@code ;}, each
 * {@code <topic>/<partition>@<base>=<runs>}: {@code <runs>} is URL-safe Base64 (no padding) of unsigned varints, a
 * pair per run of finished offsets, the number of offsets skipped since the end of the previous run (from
 * {@code base} for the first) and the run's length. An entry names its partition because the container asks for a
 * commit's metadata without saying which partition it is for; the reader uses only the entry naming its own
 * partition, and only offsets at or above the offset committed.
 *
 * <p>
 * <b>Size:</b> the broker refuses metadata longer than {@code offset.metadata.max.bytes} (4,096 by default), and a
 * refused commit would lose the offset too, so the text is cut to {@link #MAX_LENGTH}: the runs that do not fit are
 * left out (those records are delivered again, never skipped wrongly).
 */
final class CommitMetadata {

	/** The longest metadata written: the broker's default {@code offset.metadata.max.bytes}. */
	static final int MAX_LENGTH = 4_096;

	static final String PREFIX = "rk1:";

	private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

	private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

	private CommitMetadata() {
	}

	/** One partition's finished offsets at or above {@code base}, to encode. */
	record Entry(TopicPartition partition, long base, OffsetRuns finished) {
	}

	/** What was encoded: the text and how many of the entries' offsets it names (fewer when cut to size). */
	record Encoded(String text, long named, long leftOut) {
	}

	/**
	 * Encode entries, cut to {@link #MAX_LENGTH}.
	 * @param entries the partitions' finished offsets
	 * @return the metadata; its text is empty when no entry has an offset to name
	 */
	static Encoded encode(List<Entry> entries) {
		StringBuilder text = new StringBuilder(PREFIX);
		long named = 0;
		long leftOut = 0;
		for (Entry entry : entries) {
			if (entry.finished().isEmpty()) {
				continue;
			}
			String head = ((text.length() > PREFIX.length()) ? ";" : "") + entry.partition().topic() + "/"
					+ entry.partition().partition() + "@" + entry.base() + "=";
			int budget = MAX_LENGTH - text.length() - head.length();
			ByteArrayOutputStream bytes = new ByteArrayOutputStream();
			long cursor = entry.base();
			long entryNamed = 0;
			OffsetRuns runs = entry.finished();
			for (int i = 0; i < runs.runs(); i++) {
				long start = Math.max(runs.start(i), cursor);
				long end = runs.end(i);
				if (end < start) {
					continue;
				}
				byte[] pair = varints(start - cursor, end - start + 1);
				if (base64Length(bytes.size() + pair.length) > budget) {
					break;
				}
				bytes.writeBytes(pair);
				cursor = end + 1;
				entryNamed += end - start + 1;
			}
			leftOut += entry.finished().size() - entryNamed;
			if (entryNamed > 0) {
				text.append(head).append(ENCODER.encodeToString(bytes.toByteArray()));
				named += entryNamed;
			}
		}
		return new Encoded((named == 0) ? "" : text.toString(), named, leftOut);
	}

	/**
	 * Read the offsets a commit's metadata names as finished for a partition.
	 * @param metadata the committed metadata (may be anything: other tools write metadata too)
	 * @param partition the partition whose entry to read
	 * @param committed the committed offset: offsets below it are left out
	 * @return the finished offsets, or {@code null} when the metadata names none for the partition or cannot be read
	 */
	static @Nullable OffsetRuns decode(@Nullable String metadata, TopicPartition partition, long committed) {
		if (metadata == null || !metadata.startsWith(PREFIX) || metadata.length() > MAX_LENGTH * 4) {
			return null;
		}
		String label = partition.topic() + "/" + partition.partition() + "@";
		for (String entry : metadata.substring(PREFIX.length()).split(";")) {
			if (!entry.startsWith(label)) {
				continue;
			}
			int equals = entry.indexOf('=', label.length());
			if (equals < 0) {
				return null;
			}
			try {
				long base = Long.parseLong(entry.substring(label.length(), equals));
				return runs(DECODER.decode(entry.substring(equals + 1)), base, committed);
			}
			catch (IllegalArgumentException ex) {
				return null; // not ours after all, or damaged: skip nothing
			}
		}
		return null;
	}

	private static @Nullable OffsetRuns runs(byte[] bytes, long base, long committed) {
		if (base < 0) {
			return null;
		}
		OffsetRuns runs = new OffsetRuns();
		int[] position = { 0 };
		long cursor = base;
		while (position[0] < bytes.length) {
			long gap = varint(bytes, position);
			long length = (position[0] < bytes.length) ? varint(bytes, position) : -1;
			if (gap < 0 || length < 1 || Long.MAX_VALUE - cursor - gap < length) {
				return null;
			}
			long start = cursor + gap;
			long end = start + length - 1;
			runs.addRange(Math.max(start, committed), end);
			cursor = end + 1;
		}
		return runs.isEmpty() ? null : runs;
	}

	private static int base64Length(int bytes) {
		return (bytes * 4 + 2) / 3;
	}

	private static byte[] varints(long first, long second) {
		ByteArrayOutputStream out = new ByteArrayOutputStream(20);
		writeVarint(out, first);
		writeVarint(out, second);
		return out.toByteArray();
	}

	private static void writeVarint(ByteArrayOutputStream out, long value) {
		while ((value & ~0x7FL) != 0) {
			out.write((int) ((value & 0x7F) | 0x80));
			value >>>= 7;
		}
		out.write((int) value);
	}

	/** Read an unsigned varint; {@code -1} when it is cut off or longer than 9 bytes. */
	private static long varint(byte[] bytes, int[] position) {
		long value = 0;
		for (int shift = 0; shift < 63; shift += 7) {
			if (position[0] >= bytes.length) {
				return -1;
			}
			byte b = bytes[position[0]++];
			value |= (long) (b & 0x7F) << shift;
			if ((b & 0x80) == 0) {
				return value;
			}
		}
		return -1;
	}

}
