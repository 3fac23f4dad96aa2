package io.github.reliablekafka.dispatch;

import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Processes one record on its lane, with its retries and dead-lettering.
 */
@FunctionalInterface
public interface LaneHandler {

	/**
	 * Process a record until it is finished: processed, skipped or dead-lettered.
	 * @param record the record
	 * @param owned whether the record's partition is still this consumer's and the dispatcher still running; a
	 * handler waiting between attempts gives up when it turns false
	 * @return {@code true} when the record is finished and may be committed; {@code false} when the handler gave up
	 * because {@code owned} turned false (the record will be redelivered to the partition's next owner)
	 * @throws InterruptedException when interrupted while waiting between attempts
	 */
	boolean handle(ConsumerRecord<String, byte[]> record, BooleanSupplier owned) throws InterruptedException;

	/**
	 * The worker ran the records of a batch (or stops with some of them run): called on the thread that ran them,
	 * before they are accounted for and so before any of their offsets can be committed. A handler that left a
	 * record's last write for later on this thread writes it here.
	 */
	default void batchDone() {
	}

}
