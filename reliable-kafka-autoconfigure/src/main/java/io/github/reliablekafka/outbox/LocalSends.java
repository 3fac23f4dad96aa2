package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.reliablekafka.producer.SendFuture;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.SendResult;

/**
 * The futures of this instance's sends, by message id, until Kafka confirms the message (whoever publishes it),
 * the transaction rolls back, or the confirmation time-out passes. Bounded in time, hence in memory.
 */
final class LocalSends {

	private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();

	SendFuture track(String messageId, ProducerRecord<String, byte[]> record) {
		Tracked entry = new Tracked(record, new SendFuture(messageId));
		this.tracked.put(messageId, entry);
		return entry.future;
	}

	void committed(String messageId, long now, long confirmTimeoutMillis) {
		Tracked entry = this.tracked.get(messageId);
		if (entry != null) {
			entry.committedAt = now;
			entry.deadline = now + confirmTimeoutMillis;
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
			entry.future.completeExceptionally(cause);
		}
	}

	void confirmed(String messageId, RecordMetadata metadata) {
		Tracked entry = this.tracked.remove(messageId);
		if (entry != null) {
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
		List<Map.Entry<String, Tracked>> waiting = new ArrayList<>();
		this.tracked.forEach((id, entry) -> {
			if (entry.committedAt > 0 && entry.committedAt < time) {
				waiting.add(Map.entry(id, entry));
			}
		});
		waiting.sort(Comparator.comparingLong((Map.Entry<String, Tracked> entry) -> entry.getValue().committedAt));
		return waiting.stream().limit(limit).map(Map.Entry::getKey).toList();
	}

	/**
	 * Fail the futures whose confirmation time-out passed; the messages stay in the outbox.
	 */
	void expire(long now) {
		this.tracked.forEach((id, entry) -> {
			if (entry.deadline <= now) {
				fail(id, new OutboxPendingException("Message rk-id=" + id + " to topic " + entry.record.topic()
						+ " is committed in the outbox but Kafka did not confirm it in time; it is not lost and is "
						+ "still being published", id));
			}
		});
	}

	int size() {
		return this.tracked.size();
	}

	private static final class Tracked {

		final ProducerRecord<String, byte[]> record;

		final SendFuture future;

		volatile long committedAt;

		volatile long deadline = Long.MAX_VALUE;

		Tracked(ProducerRecord<String, byte[]> record, SendFuture future) {
			this.record = record;
			this.future = future;
		}

	}

}
