package io.github.reliablekafka.delay;

import java.util.List;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ForwarderPartitionsTests {

	private final TopicPartition first = new TopicPartition("rk-delay-1s", 0);

	private final TopicPartition second = new TopicPartition("rk-delay-1s", 1);

	private final ForwarderPartitions partitions = new ForwarderPartitions();

	@Test
	void aPartitionsFailedForwardsWaitTwiceAsLongEachTimeUpToAMinuteAndStartOverOnceThroughAgain() {
		assertThat(List.of(this.partitions.failed(this.first), this.partitions.failed(this.first),
				this.partitions.failed(this.first))).containsExactly(1_000L, 2_000L, 4_000L);
		for (int i = 0; i < 10; i++) {
			this.partitions.failed(this.first);
		}
		assertThat(this.partitions.failed(this.first)).isEqualTo(60_000);
		assertThat(this.partitions.failed(this.second)).as("another partition counts on its own").isEqualTo(1_000);
		this.partitions.succeeded(this.first);
		assertThat(this.partitions.failed(this.first)).isEqualTo(1_000);
	}

	@Test
	void pausedPartitionsAreResumedWhenTheirTimeComesAndThePollWaitsNoLonger() {
		this.partitions.pauseUntil(this.first, 1_500);
		this.partitions.pauseUntil(this.second, 3_000);
		assertThat(this.partitions.pollWait(1_000, 1_000)).isEqualTo(500);
		assertThat(this.partitions.takeDue(1_000)).isEmpty();
		assertThat(this.partitions.takeDue(1_500)).containsExactly(this.first);
		assertThat(this.partitions.pollWait(1_500, 1_000)).isEqualTo(1_000);
		assertThat(this.partitions.pollWait(2_500, 1_000)).isEqualTo(500);
		this.partitions.assigned(List.of(this.second));
		assertThat(this.partitions.takeDue(10_000)).as("an assigned partition is not paused").isEmpty();
	}

	@Test
	void aRecordForwardedAfterAFailedOneIsRememberedUntilCommittedOrItsPartitionIsRevoked() {
		this.partitions.forwardedAfterAFailure(this.first, 7);
		this.partitions.forwardedAfterAFailure(this.first, 8);
		assertThat(this.partitions.forwardedAhead(this.first, 7)).isTrue();
		assertThat(this.partitions.forwardedAhead(this.first, 6)).isFalse();
		assertThat(this.partitions.forwardedAhead(this.second, 7)).isFalse();
		this.partitions.committed(this.first, 7);
		assertThat(this.partitions.forwardedAhead(this.first, 7)).isFalse();
		this.partitions.forget(List.of(this.first));
		assertThat(this.partitions.forwardedAhead(this.first, 8)).as("the next owner starts from the commit").isFalse();
	}

}
