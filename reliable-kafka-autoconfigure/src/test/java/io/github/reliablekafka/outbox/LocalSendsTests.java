package io.github.reliablekafka.outbox;

import java.util.concurrent.ExecutionException;

import io.github.reliablekafka.producer.SendFuture;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The futures of an instance's own sends: time-outs and the oldest waiting sends found from the commit-ordered queue.
 */
class LocalSendsTests {

	@Test
	void timeOutsFailOnlyTheCommittedSendsPastTheirDeadlineAndTheOldestWaitingComeFirst() throws Exception {
		LocalSends sends = new LocalSends();
		SendFuture first = sends.track("a", record());
		SendFuture second = sends.track("b", record());
		SendFuture third = sends.track("c", record());
		SendFuture uncommitted = sends.track("d", record());
		sends.committed("a", 1_000, 500);
		sends.committed("b", 1_100, 500);
		sends.committed("c", 1_200, 500);
		assertThat(sends.committedBefore(1_150, 10)).containsExactly("a", "b");
		assertThat(sends.committedBefore(10_000, 2)).containsExactly("a", "b");
		sends.confirmed("a", new RecordMetadata(new TopicPartition("t", 0), 0, 0, 0, 1, 1));
		assertThat(first.get().getRecordMetadata().topic()).isEqualTo("t");
		assertThat(sends.committedBefore(10_000, 10)).containsExactly("b", "c");
		sends.expire(1_650);
		assertThatExceptionOfType(ExecutionException.class).isThrownBy(second::get)
			.withCauseInstanceOf(OutboxPendingException.class);
		assertThat(third).isNotDone();
		assertThat(uncommitted).isNotDone();
		assertThat(sends.committedBefore(10_000, 10)).containsExactly("c");
		sends.expire(1_700);
		assertThat(third).isCompletedExceptionally();
		assertThat(uncommitted).as("not committed: no deadline").isNotDone();
		assertThat(sends.size()).isEqualTo(1);
	}

	private static ProducerRecord<String, byte[]> record() {
		return new ProducerRecord<>("t", "k", new byte[0]);
	}

}
