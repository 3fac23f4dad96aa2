package io.github.reliablekafka.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which records on the consumer thread run without a counted claim: only the next offset after a record the guard
 * found new and ran, on the same partition.
 */
class PartitionFlowTests {

	private final PartitionFlow flow = new PartitionFlow();

	@Test
	void theFirstNewRecordOfAPartitionStartsTheFlow() {
		assertThat(this.flow.inFlow(record(0, 10))).as("first record after start").isFalse();
		this.flow.decided(record(0, 10), false); // a duplicate: still replaying
		assertThat(this.flow.inFlow(record(0, 11))).isFalse();
		this.flow.decided(record(0, 11), true); // new, and ran
		assertThat(this.flow.inFlow(record(0, 12))).isTrue();
		assertThat(this.flow.inFlow(record(1, 12))).as("another partition").isFalse();
		this.flow.decided(record(0, 12), false); // a duplicate in flow: the next one is checked and claimed
		assertThat(this.flow.inFlow(record(0, 13))).isFalse();
	}

	@Test
	void aGapAFailureOrABypassEndsTheFlow() {
		this.flow.decided(record(0, 5), true);
		assertThat(this.flow.inFlow(record(0, 7))).as("a gap: a seek, or another consumer's progress").isFalse();
		assertThat(this.flow.inFlow(record(0, 5))).as("the same record again: a retry").isFalse();
		assertThat(this.flow.inFlow(record(0, 6))).isTrue();
		this.flow.decided(record(0, 6), false); // it failed: the retry comes at the same offset, claimed
		assertThat(this.flow.inFlow(record(0, 6))).isFalse();
		assertThat(this.flow.inFlow(record(0, 7))).isFalse();
		this.flow.decided(record(0, 6), true);
		assertThat(this.flow.inFlow(record(0, 7))).isTrue();
	}

	private static ConsumerRecord<String, byte[]> record(int partition, long offset) {
		return new ConsumerRecord<>("t", partition, offset, "k", new byte[0]);
	}

}
