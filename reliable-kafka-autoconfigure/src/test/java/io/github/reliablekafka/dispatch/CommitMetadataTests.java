package io.github.reliablekafka.dispatch;

import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The offsets finished beyond a commit frontier survive the trip through the commit's metadata, within the broker's
 * size limit, and nothing else is ever read as finished.
 */
class CommitMetadataTests {

	private static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);

	@Test
	void finishedOffsetsRoundTripExactly() {
		Random random = new Random(42);
		TreeSet<Long> finished = new TreeSet<>();
		long base = 1_000_000_007L;
		for (long offset = base + 1; offset < base + 1_000; offset++) {
			if (random.nextInt(3) > 0) {
				finished.add(offset);
			}
		}
		OffsetRuns runs = new OffsetRuns();
		finished.forEach(runs::add);
		CommitMetadata.Encoded encoded = CommitMetadata.encode(List.of(new CommitMetadata.Entry(ORDERS_1, base, runs)));
		System.out.printf("%d finished offsets in %d runs beyond %d: %d characters%n", finished.size(), runs.runs(), base,
				encoded.text().length());
		assertThat(encoded.leftOut()).isZero();
		assertThat(encoded.named()).isEqualTo(finished.size());
		OffsetRuns read = CommitMetadata.decode(encoded.text(), ORDERS_1, base);
		assertThat(read).isNotNull();
		for (long offset = base - 5; offset < base + 1_005; offset++) {
			assertThat(read.contains(offset)).as("offset %d", offset).isEqualTo(finished.contains(offset));
		}
		assertThat(read.size()).isEqualTo(finished.size());
	}

	@Test
	void aPartitionReadsOnlyItsOwnEntry() {
		OffsetRuns first = runs(12, 14);
		OffsetRuns second = runs(11);
		String text = CommitMetadata
			.encode(List.of(new CommitMetadata.Entry(ORDERS_1, 10, first),
					new CommitMetadata.Entry(new TopicPartition("orders", 11), 10, second),
					new CommitMetadata.Entry(new TopicPartition("xorders", 1), 10, runs(15))))
			.text();
		assertThat(CommitMetadata.decode(text, ORDERS_1, 10)).hasToString("[12, 14]");
		assertThat(CommitMetadata.decode(text, new TopicPartition("orders", 11), 10)).hasToString("[11]");
		assertThat(CommitMetadata.decode(text, new TopicPartition("xorders", 1), 10)).hasToString("[15]");
		assertThat(CommitMetadata.decode(text, new TopicPartition("orders", 2), 10)).isNull();
		assertThat(CommitMetadata.decode(text, new TopicPartition("rders", 1), 10)).isNull();
	}

	@Test
	void offsetsBelowTheCommittedOffsetAreNeverSkipped() {
		String text = CommitMetadata.encode(List.of(new CommitMetadata.Entry(ORDERS_1, 10, runs(10, 11, 12, 20))))
			.text();
		// the group was reset to an earlier offset, or moved past some of them: only what is ahead counts
		assertThat(CommitMetadata.decode(text, ORDERS_1, 12)).hasToString("[12, 20]");
		assertThat(CommitMetadata.decode(text, ORDERS_1, 21)).isNull();
	}

	@Test
	void metadataTooLongForTheBrokerIsCutAndCutsOnlyWhatIsLeftOut() {
		OffsetRuns everyOther = new OffsetRuns();
		for (long offset = 2; offset < 40_000; offset += 2) {
			everyOther.add(offset);
		}
		CommitMetadata.Encoded encoded = CommitMetadata
			.encode(List.of(new CommitMetadata.Entry(ORDERS_1, 1, everyOther)));
		System.out.printf("%d offsets, every other one: %d named in %d characters, %d left out%n", everyOther.size(),
				encoded.named(), encoded.text().length(), encoded.leftOut());
		assertThat(encoded.text().length()).isLessThanOrEqualTo(CommitMetadata.MAX_LENGTH);
		assertThat(encoded.leftOut()).isPositive();
		assertThat(encoded.named() + encoded.leftOut()).isEqualTo(everyOther.size());
		OffsetRuns read = CommitMetadata.decode(encoded.text(), ORDERS_1, 1);
		assertThat(read.size()).isEqualTo(encoded.named());
		for (long offset = 1; offset < 40_000; offset++) {
			if (read.contains(offset)) {
				assertThat(offset % 2).as("offset %d read as finished", offset).isZero();
			}
		}
	}

	@Test
	void nothingToNameWritesNoMetadata() {
		assertThat(CommitMetadata.encode(List.of(new CommitMetadata.Entry(ORDERS_1, 5, new OffsetRuns()))).text())
			.isEmpty();
	}

	@Test
	void metadataWrittenByOthersOrDamagedIsReadAsNothingFinished() {
		String good = CommitMetadata.encode(List.of(new CommitMetadata.Entry(ORDERS_1, 10, runs(12, 13)))).text();
		for (String hostile : new String[] { null, "", "some tool's note", "rk1:", "rk1:orders/1@",
				"rk1:orders/1@x=AQI", "rk1:orders/1@-5=AQI", "rk1:orders/1@10=!!!", "rk1:orders/1@10=gICAgICAgICAgIAB",
				"rk1:orders/1@10=AA", "rk1:orders/1@10=AQ", "rk1:orders/1@9223372036854775807=AQI",
				"rk1:orders/1@10=" + "/".repeat(20_000), good.substring(0, good.length() - 1) + "@" }) {
			OffsetRuns read = CommitMetadata.decode(hostile, ORDERS_1, 10);
			assertThat(read).as("%s", hostile).isNull();
		}
	}

	private static OffsetRuns runs(long... offsets) {
		OffsetRuns runs = new OffsetRuns();
		for (long offset : offsets) {
			runs.add(offset);
		}
		return runs;
	}

}
