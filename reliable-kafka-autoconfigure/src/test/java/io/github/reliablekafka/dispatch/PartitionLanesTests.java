package io.github.reliablekafka.dispatch;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules of one partition's dispatch state that decide what is delivered again: what a stop lets start, what a
 * commit names as finished, and what the next owner skips.
 */
class PartitionLanesTests {

	private static final TopicPartition PARTITION = new TopicPartition("orders", 0);

	private final List<Long> acknowledged = new ArrayList<>();

	private final AtomicLong bytes = new AtomicLong();

	@Test
	void aStopStartsNothingQueuedAndTheCommitNamesWhatFinishedBeyondTheFrontier() {
		PartitionLanes state = new PartitionLanes(PARTITION, 2, this.bytes, (s) -> { });
		for (long offset = 100; offset < 110; offset++) {
			state.admit(record(offset), state.lanes()[(int) (offset % state.lanes().length)], 1_000, Long.MAX_VALUE);
		}
		LaneBatch first = new LaneBatch(1);
		LaneBatch second = new LaneBatch(1);
		assertThat(state.turn(first, false)).isTrue(); // 100 runs
		assertThat(state.turn(second, false)).isTrue(); // 101 runs
		long running = second.records[0].record.offset();
		second.done[0] = true;
		assertThat(state.turn(second, false)).isTrue(); // 101 finished, the next one runs
		second.done[0] = true;
		state.turn(second, false); // it finished too; a third one of that lane runs
		int dropped = state.stop();
		second.done[0] = true;
		assertThat(state.turn(second, false)).as("nothing starts once stopping").isFalse();
		first.done[0] = false; // 100 had not started when the worker saw the stop
		assertThat(state.turn(first, false)).isFalse();
		int abandoned = state.drainAndGiveUp(System.nanoTime());
		System.out.printf("stop: %d queued records dropped, %d in flight abandoned, %d finished beyond the frontier; "
				+ "position %d, finished %s%n", dropped, abandoned, state.finishedBeyondFrontier(), state.position(),
				state.finishedFrom(state.position()).finished());
		assertThat(dropped).isEqualTo(6);
		assertThat(abandoned).isZero();
		assertThat(running).isEqualTo(101);
		assertThat(state.position()).isEqualTo(100);
		assertThat(state.finishedFrom(100).finished().size()).isEqualTo(3);
		assertThat(this.bytes.get()).isZero();
		assertThat(this.acknowledged).isEmpty(); // the frontier never moved: 100 is unfinished
	}

	@Test
	void theNextOwnerSkipsWhatThePreviousOneFinishedAndStillNamesWhatItHasNotPolled() {
		PartitionLanes state = new PartitionLanes(PARTITION, 1, this.bytes, (s) -> { });
		OffsetRuns finished = new OffsetRuns();
		finished.addRange(102, 103);
		finished.add(106);
		state.inherit(100, finished);
		assertThat(state.position()).isEqualTo(100);
		int started = 0;
		for (long offset = 100; offset < 104; offset++) {
			int result = state.admit(record(offset), state.lanes()[0], 1_000, Long.MAX_VALUE);
			started += ((result & PartitionLanes.START_WORKER) != 0) ? 1 : 0;
		}
		assertThat(state.skipped()).isEqualTo(2);
		assertThat(state.finishedFrom(100).finished()).hasToString("[102-103, 106]");
		LaneBatch batch = new LaneBatch(16);
		assertThat(state.turn(batch, false)).isTrue();
		assertThat(batch.count).as("only 100 and 101 run").isEqualTo(2);
		batch.done[0] = true;
		batch.done[1] = true;
		assertThat(state.turn(batch, false)).isFalse();
		synchronized (state) {
			state.acknowledgePending(System.nanoTime()); // what the periodic flush does
		}
		assertThat(this.acknowledged).containsExactly(100L, 103L); // the frontier passed the skipped records
		assertThat(state.position()).isEqualTo(104);
		assertThat(state.committing(104)).isTrue();
		assertThat(state.committing(104)).as("asked once").isFalse();
		assertThat(state.committing(101)).as("superseded by the commit of 104").isFalse();
		assertThat(state.finishedFrom(104).finished()).hasToString("[106]");
		state.admit(record(104), state.lanes()[0], 1_000, Long.MAX_VALUE);
		state.admit(record(106), state.lanes()[0], 1_000, Long.MAX_VALUE); // 105 was compacted away
		assertThat(state.skipped()).isEqualTo(3);
		assertThat(state.finishedFrom(104).finished()).hasToString("[106]");
		assertThat(started).isEqualTo(1);
	}

	@Test
	void aReplayForgetsWhatThePreviousOwnerFinishedAndRunsEveryRecordFromItsOffset() throws Exception {
		PartitionLanes state = new PartitionLanes(PARTITION, 1, this.bytes, (s) -> { });
		OffsetRuns finished = new OffsetRuns();
		finished.addRange(51, 60);
		state.inherit(50, finished);
		assertThat(state.prepareReplay(20, System.nanoTime())).as("ready: nothing in flight").isEqualTo(-1);
		assertThat(state.position()).isEqualTo(20);
		assertThat(state.finishedFrom(20).finished().isEmpty()).isTrue();
		for (long offset = 20; offset < 61; offset++) {
			state.admit(record(offset), state.lanes()[0], 1_000, Long.MAX_VALUE);
		}
		System.out.printf("replay from 20 over a map naming 51-60: %d of 41 records to run, %d skipped%n",
				state.inFlight(), state.skipped());
		assertThat(state.inFlight()).isEqualTo(41);
		assertThat(state.skipped()).isZero();
	}

	@Test
	void aCommitOfAnOffsetThePartitionDidNotAcknowledgeIsNotItsOwn() {
		PartitionLanes state = new PartitionLanes(PARTITION, 1, this.bytes, (s) -> { });
		state.admit(record(7), state.lanes()[0], 1_000, Long.MAX_VALUE);
		LaneBatch batch = new LaneBatch(1);
		state.turn(batch, false);
		batch.done[0] = true;
		state.turn(batch, false);
		assertThat(this.acknowledged).containsExactly(7L);
		assertThat(state.committing(7)).isFalse();
		assertThat(state.committing(9)).isFalse();
		assertThat(state.committing(8)).isTrue();
	}

	@Test
	void whileTheFrontierStandsStillWhatFinishesBeyondItIsCommittedAtTheFrontier() {
		PartitionLanes state = new PartitionLanes(PARTITION, 2, this.bytes, (s) -> { });
		List<PartitionLanes> assigned = List.of(state);
		FrontierCommits commits = new FrontierCommits("test", () -> assigned);
		for (long offset = 10; offset < 14; offset++) {
			state.admit(record(offset), state.lanes()[(int) (offset - 10)], 1_000, Long.MAX_VALUE);
		}
		LaneBatch stuck = new LaneBatch(1);
		LaneBatch other = new LaneBatch(1);
		state.turn(stuck, false); // 10 runs and does not finish
		state.turn(other, false); // 11
		other.done[0] = true;
		state.turn(other, false); // 12
		other.done[0] = true;
		state.turn(other, false); // 13 runs
		long now = System.nanoTime();
		synchronized (state) {
			state.acknowledgeBeyondFrontier(now);
		}
		assertThat(this.acknowledged).containsExactly(12L);
		other.done[0] = true;
		state.turn(other, false); // 13 finished
		synchronized (state) {
			state.acknowledgeBeyondFrontier(now + PartitionFrontier.BEYOND_FRONTIER_ACK_NANOS / 2);
		}
		assertThat(this.acknowledged).as("not within the interval").containsExactly(12L);
		OffsetAndMetadata commit = commits.provide(null, 13);
		System.out.printf("frontier held by 10, 11 to 13 finished: the container asked for 13, committed %s%n", commit);
		assertThat(commit.offset()).isEqualTo(10);
		assertThat(CommitMetadata.decode(commit.metadata(), PARTITION, 10)).hasToString("[11-13]");
		assertThat(commits.provide(null, 9)).as("not an offset it acknowledged").isEqualTo(new OffsetAndMetadata(9));
		stuck.done[0] = true;
		state.turn(stuck, false); // 10 finished: the frontier moves to 13
		synchronized (state) {
			state.acknowledgePending(System.nanoTime());
		}
		assertThat(this.acknowledged).containsExactly(12L, 13L); // 12 was used; 13 carries the move
		assertThat(commits.provide(null, 14)).isEqualTo(new OffsetAndMetadata(14));
	}

	@Test
	void twoPartitionsOfOneConsumerNeverWaitForTheCommitOfTheSameOffset() {
		Map<Long, PartitionLanes> claims = new ConcurrentHashMap<>();
		PartitionLanes first = new PartitionLanes(PARTITION, 1, this.bytes, (s) -> { }, claims);
		PartitionLanes second = new PartitionLanes(new TopicPartition("orders", 1), 1, this.bytes, (s) -> { }, claims);
		List<PartitionLanes> assigned = List.of(first, second);
		FrontierCommits commits = new FrontierCommits("test", () -> assigned);
		for (PartitionLanes state : assigned) {
			state.admit(record(7), state.lanes()[0], 1_000, Long.MAX_VALUE);
			LaneBatch batch = new LaneBatch(1);
			state.turn(batch, false);
			batch.done[0] = true;
			state.turn(batch, false);
		}
		assertThat(this.acknowledged).as("the second waits: 8 is the first's").containsExactly(7L);
		assertThat(commits.provide(null, 8)).isEqualTo(new OffsetAndMetadata(8));
		synchronized (second) {
			second.acknowledgePending(System.nanoTime());
		}
		assertThat(this.acknowledged).containsExactly(7L, 7L);
		assertThat(second.committing(8)).isTrue();
		assertThat(first.committing(8)).isFalse();
	}

	private DispatchedRecord record(long offset) {
		ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(PARTITION.topic(), PARTITION.partition(), offset,
				"key-" + offset, new byte[10]);
		return new DispatchedRecord(record, () -> this.acknowledged.add(offset), null, 100);
	}

}
