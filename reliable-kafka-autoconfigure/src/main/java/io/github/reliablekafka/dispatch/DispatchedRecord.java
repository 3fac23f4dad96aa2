package io.github.reliablekafka.dispatch;

import io.micrometer.context.ContextSnapshot;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.Acknowledgment;

/**
 * A record handed to a lane, with what travels with it: its acknowledgement, the consumer thread's context
 * ({@link RecordContext}), its size and when it was dispatched.
 */
final class DispatchedRecord {

	final ConsumerRecord<String, byte[]> record;

	final Acknowledgment acknowledgment;

	/** The consumer thread's context when the record was dispatched. */
	final @Nullable ContextSnapshot context;

	final int bytes;

	final long dispatchedNanos = System.nanoTime();

	volatile boolean finished;

	/** Whether its acknowledgement was used (each can be used once); guarded by its partition's lock. */
	boolean acknowledged;

	/** Whether its bytes still count in the dispatcher's bytes in flight (from admission until below the frontier). */
	boolean counted = true;

	/** The bytes a record counts for in the bytes in flight: its key, its value and a fixed overhead. */
	static int size(ConsumerRecord<String, byte[]> record) {
		return Math.max(0, record.serializedKeySize()) + Math.max(0, record.serializedValueSize()) + 64;
	}

	DispatchedRecord(ConsumerRecord<String, byte[]> record, Acknowledgment acknowledgment,
			@Nullable ContextSnapshot context, int bytes) {
		this.record = record;
		this.acknowledgment = acknowledgment;
		this.context = context;
		this.bytes = bytes;
	}

}
