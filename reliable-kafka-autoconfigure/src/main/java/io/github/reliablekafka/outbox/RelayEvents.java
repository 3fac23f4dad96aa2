package io.github.reliablekafka.outbox;

import java.util.List;
import java.util.Map;

import io.github.reliablekafka.outbox.RelayLanes.Held;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.SendResult;

/**
 * What reaches the relay thread through its event queue.
 */
final class RelayEvents {

	private RelayEvents() {
	}

	/** Kafka's answer to a send. */
	record Outcome(Held entry, @Nullable SendResult<String, byte[]> result, @Nullable Throwable failure) {
	}

	/** A row this instance wrote under its writer lease was committed. */
	record Committed(String messageId, long leaseUntil) {
	}

	/**
	 * What a claim leased to this instance, or an admission let it publish.
	 * @param poll whether the poll's claim of due rows, else an admission of just-committed rows
	 * @param rows the rows, by id
	 * @param leaseUntil their lease's end
	 * @param drops the relay's drop count when the claim was asked for
	 * @param nextDue when a poll found nothing: the next delayed row's due time, if any
	 * @param failure why the claim failed, if it did
	 * @param records the records of rows admitted from this instance's own sends, by row id (others are read from
	 * the rows)
	 * @param writerRowsBefore for admitted rows: the earlier rows of their key under this instance's writer lease
	 * @param leases for admitted rows: each row's own lease end, its writer lease as the table has it (the relay's
	 * hold on a row never ends before the table's, nor later)
	 */
	record Claimed(boolean poll, List<OutboxRow> rows, long leaseUntil, long drops, @Nullable Long nextDue,
			@Nullable RuntimeException failure, Map<Long, ProducerRecord<String, byte[]>> records,
			Map<Long, List<Long>> writerRowsBefore, Map<Long, Long> leases) {

		Claimed(boolean poll, List<OutboxRow> rows, long leaseUntil, long drops, @Nullable Long nextDue,
				@Nullable RuntimeException failure) {
			this(poll, rows, leaseUntil, drops, nextDue, failure, Map.of(), Map.of(), Map.of());
		}

		/** The lease end of one of the rows. */
		long leaseOf(long rowId) {
			return this.leases.getOrDefault(rowId, this.leaseUntil);
		}

	}

	/**
	 * The relay's leases were renewed in the table up to {@code until} (those still valid at {@code now}), or could
	 * not be.
	 */
	record Renewed(long now, long until, @Nullable RuntimeException failure) {
	}

	/** A write of the relay's bookkeeping failed; the rows concerned stay leased until their lease runs out. */
	record WriteFailed(String what, RuntimeException failure) {
	}

	/** A delayed row was committed: look for due rows no later than its due time. */
	record Scheduled(long dueAt) {
	}

	/** Look for due rows now. */
	enum Wake {

		INSTANCE

	}

}
