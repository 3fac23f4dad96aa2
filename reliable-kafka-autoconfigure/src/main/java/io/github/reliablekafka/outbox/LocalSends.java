package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import io.github.reliablekafka.producer.SendFuture;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.SendResult;

/**
 * The futures of this instance's sends, by message id, until Kafka confirms the message (whoever publishes it),
 * the transaction rolls back, or the confirmation time-out passes. Bounded in time, hence in memory.
 *
 * <p>
 * Committed sends are also queued in commit order, so that the time-outs and the oldest waiting sends are found from
 * the head of that queue (the sends confirmed meanwhile are dropped from it there), without walking every send in
 * flight.
 */
final class LocalSends {

	private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();

	private final Queue<Tracked> byCommit = new ConcurrentLinkedQueue<>();

	SendFuture track(String messageId, ProducerRecord<String, byte[]> record) {
		Tracked entry = new Tracked(messageId, record, new SendFuture(messageId));
		this.tracked.put(messageId, entry);
		return entry.future;
	}

	void committed(String messageId, long now, long confirmTimeoutMillis) {
		Tracked entry = this.tracked.get(messageId);
		if (entry != null) {
			entry.committedAt = now;
			entry.deadline = now + confirmTimeoutMillis;
			this.byCommit.add(entry);
		}
	}

	/**
	 * Return the record of a send still waiting for its confirmation, or {@code null}.
	 */
	@Nullable ProducerRecord<String, byte[]> record(String messageId) {
		Tracked entry = this.tracked.get(messageId);
		return (entry != null) ? entry.record : null;
	}

	void fail(String messageId, Throwable cause) {
		Tracked entry = this.tracked.remove(messageId);
		if (entry != null) {
			entry.done = true;
			entry.future.completeExceptionally(cause);
		}
	}

	void confirmed(String messageId, RecordMetadata metadata) {
		Tracked entry = this.tracked.remove(messageId);
		if (entry != null) {
			entry.done = true;
			entry.future.complete(new SendResult<>(entry.record, metadata));
		}
	}

	/**
	 * Confirm a message another instance published: its partition and offset are not known here.
	 */
	void confirmedElsewhere(String messageId) {
		Tracked entry = this.tracked.get(messageId);
		if (entry != null) {
			confirmed(messageId, new RecordMetadata(new TopicPartition(entry.record.topic(), -1), -1, 0, -1, -1, -1));
		}
	}

	/**
	 * Return up to {@code limit} committed messages waiting for confirmation since before a time, oldest first.
	 */
	List<String> committedBefore(long time, int limit) {
		List<String> waiting = new ArrayList<>();
		for (Tracked entry : this.byCommit) {
			if (waiting.size() >= limit || entry.committedAt >= time) {
				break;
			}
			if (!entry.done) {
				waiting.add(entry.messageId);
			}
		}
		return waiting;
	}

	/**
	 * Fail the futures whose confirmation time-out passed; the messages stay in the outbox.
	 */
	void expire(long now) {
		Tracked head;
		while ((head = this.byCommit.peek()) != null && (head.done || head.deadline <= now)) {
			this.byCommit.poll();
			if (!head.done) {
				fail(head.messageId, new OutboxPendingException("Message rk-id=" + head.messageId + " to topic "
						+ head.record.topic() + " is committed in the outbox but Kafka did not confirm it in time; it is "
						+ "not lost and is still being published", head.messageId));
			}
		}
	}

	int size() {
		return this.tracked.size();
	}

	private static final class Tracked {

		final String messageId;

		final ProducerRecord<String, byte[]> record;

		final SendFuture future;

		volatile long committedAt;

		volatile long deadline = Long.MAX_VALUE;

		volatile boolean done;

		Tracked(String messageId, ProducerRecord<String, byte[]> record, SendFuture future) {
			this.messageId = messageId;
			this.record = record;
			this.future = future;
		}

	}

}
