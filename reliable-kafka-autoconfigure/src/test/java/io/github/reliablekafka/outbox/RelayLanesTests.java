package io.github.reliablekafka.outbox;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's record of keys let go while a claim was under way: the rows of those keys that the claim brings back
 * must go back to the table, or a later row could overtake the one let go.
 */
class RelayLanesTests {

	@Test
	void aKeyLetGoAfterAClaimStartedIsReportedForThatClaimOnly() {
		RelayLanes lanes = new RelayLanes();
		OutboxRow first = row(1, "k");
		lanes.add(first, record(first), Long.MAX_VALUE);
		RelayLanes.Held inFlight = lanes.startSending(lanes.nextSendable());
		lanes.add(row(2, "k"), record(row(2, "k")), Long.MAX_VALUE);
		long claimStarted = lanes.dropCount();

		assertThat(lanes.dropQueued(inFlight.lane)).extracting((held) -> held.row.id()).containsExactly(2L);

		assertThat(lanes.droppedSince(row(3, "k"), claimStarted)).as("k let go during the claim").isTrue();
		assertThat(lanes.droppedSince(row(4, "other"), claimStarted)).as("another key").isFalse();
		assertThat(lanes.droppedSince(row(3, "k"), lanes.dropCount())).as("a claim started after the drop").isFalse();
		lanes.forgetDrops();
		assertThat(lanes.droppedSince(row(3, "k"), claimStarted)).as("forgotten").isFalse();
	}

	@Test
	void aRowLetGoBecauseItsLeaseRanOutCountsAsADrop() {
		RelayLanes lanes = new RelayLanes();
		OutboxRow expiring = row(1, "k");
		lanes.add(expiring, record(expiring), 100);
		long claimStarted = lanes.dropCount();
		assertThat(lanes.renewed(200, 60_000)).extracting((held) -> held.row.id()).containsExactly(1L);
		assertThat(lanes.droppedSince(row(2, "k"), claimStarted)).isTrue();
	}

	@Test
	void aLaneSaysWhetherRowsWaitBehindTheOneInFlightSoThatItsAnswerIsUrgent() {
		RelayLanes lanes = new RelayLanes();
		OutboxRow first = row(1, "k");
		lanes.add(first, record(first), Long.MAX_VALUE);
		RelayLanes.Held inFlight = lanes.startSending(lanes.nextSendable());
		assertThat(inFlight.lane.waiting).as("nothing behind the row in flight").isFalse();
		lanes.add(row(2, "k"), record(row(2, "k")), Long.MAX_VALUE);
		lanes.add(row(3, "k"), record(row(3, "k")), Long.MAX_VALUE);
		assertThat(inFlight.lane.waiting).as("rows 2 and 3 wait for row 1's answer").isTrue();
		lanes.done(inFlight);
		RelayLanes.Held second = lanes.startSending(lanes.nextSendable());
		assertThat(second.row.id()).isEqualTo(2);
		assertThat(second.lane.waiting).as("row 3 waits for row 2's answer").isTrue();
		lanes.dropQueued(second.lane);
		assertThat(second.lane.waiting).as("row 3 let go").isFalse();
	}

	private static OutboxRow row(long id, String key) {
		return new OutboxRow(id, "m-" + id, "t", key, new byte[0], null, 0, 0, 0);
	}

	private static ProducerRecord<String, byte[]> record(OutboxRow row) {
		return new ProducerRecord<>(row.topic(), row.key(), row.payload());
	}

}
