package io.github.reliablekafka.producer;

import java.nio.charset.StandardCharsets;

import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Builds the records every {@link ReliableKafkaTemplate} sends: the payload encoded, a fresh {@code rk-id}, on outbox
 * sends {@code rk-created-at} (the row is published later than it was written; a direct send's Kafka timestamp is
 * already its creation time), and the checks that refuse bad input before anything is stored or sent.
 */
public final class ReliableRecords {

	private final PayloadCodec codec;

	/**
	 * Bytes a record's framing and the library's headers take at most, beyond its key and value: a record whose key
	 * and value leave this much room under {@code max.request.size} is not measured.
	 */
	private static final int FRAMING = 512;

	private final int maxRequestSize;

	private final boolean createdAt;

	/**
	 * Create a record factory.
	 * @param codec the payload codec
	 * @param maxRequestSize the producer's {@code max.request.size}: larger records are refused
	 * @param createdAt whether records carry {@code rk-created-at} (outbox sends)
	 */
	public ReliableRecords(PayloadCodec codec, int maxRequestSize, boolean createdAt) {
		this.codec = codec;
		this.maxRequestSize = maxRequestSize;
		this.createdAt = createdAt;
	}

	/**
	 * Build a record with a fresh message id.
	 * @param topic the topic, not blank
	 * @param key the key, or {@code null}
	 * @param payload the payload, or {@code null} for a tombstone
	 * @return the record, with its {@code rk-id} header (and {@code rk-created-at} for the outbox)
	 * @throws IllegalArgumentException when the topic is blank or the record exceeds {@code max.request.size}
	 * @throws io.github.reliablekafka.support.PayloadCodecException when the payload cannot be encoded
	 */
	public ProducerRecord<String, byte[]> create(String topic, @Nullable String key, @Nullable Object payload) {
		return create(MessageIds.next(), topic, key, payload);
	}

	/**
	 * Build a record with a message id the caller drew from {@link MessageIds#next()} (and so need not read back from
	 * the record's headers).
	 * @param messageId the {@code rk-id}
	 * @param topic the topic, not blank
	 * @param key the key, or {@code null}
	 * @param payload the payload, or {@code null} for a tombstone
	 * @return the record, with its {@code rk-id} header (and {@code rk-created-at} for the outbox)
	 * @throws IllegalArgumentException when the topic is blank or the record exceeds {@code max.request.size}
	 * @throws io.github.reliablekafka.support.PayloadCodecException when the payload cannot be encoded
	 */
	public ProducerRecord<String, byte[]> create(String messageId, String topic, @Nullable String key,
			@Nullable Object payload) {
		Assert.isTrue(topic != null && !topic.isBlank(), "topic must not be blank");
		byte[] value = this.codec.encode(payload);
		// the record's own headers, filled in place: handing it a RecordHeaders would copy them
		ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, null, key, value);
		Headers headers = record.headers();
		headers.add(RkHeaders.ID, messageId.getBytes(StandardCharsets.UTF_8));
		if (this.createdAt) {
			headers.add(RkHeaders.CREATED_AT, Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
		}
		long keyAtMost = (key != null) ? 3L * key.length() : 0; // UTF-8 takes at most 3 bytes per char
		if (keyAtMost + ((value != null) ? value.length : 0) + FRAMING <= this.maxRequestSize) {
			return record; // far below the limit: not measured
		}
		byte[] keyBytes = (key != null) ? key.getBytes(StandardCharsets.UTF_8) : null;
		int size = AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
				keyBytes, value, headers.toArray());
		if (size > this.maxRequestSize) {
			throw new IllegalArgumentException("Record for topic " + topic + " key " + key + " is " + size
					+ " bytes, more than max.request.size=" + this.maxRequestSize + "; nothing was sent");
		}
		return record;
	}

}
