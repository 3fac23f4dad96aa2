package io.github.reliablekafka.producer;

import java.nio.charset.StandardCharsets;

import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Builds the records every {@link ReliableKafkaTemplate} sends: the payload encoded, a fresh {@code rk-id} and
 * {@code rk-created-at}, and the checks that refuse bad input before anything is stored or sent.
 */
public final class ReliableRecords {

	private final PayloadCodec codec;

	private final int maxRequestSize;

	/**
	 * Create a record factory.
	 * @param codec the payload codec
	 * @param maxRequestSize the producer's {@code max.request.size}: larger records are refused
	 */
	public ReliableRecords(PayloadCodec codec, int maxRequestSize) {
		this.codec = codec;
		this.maxRequestSize = maxRequestSize;
	}

	/**
	 * Build a record.
	 * @param topic the topic, not blank
	 * @param key the key, or {@code null}
	 * @param payload the payload, or {@code null} for a tombstone
	 * @return the record, with its {@code rk-id} and {@code rk-created-at} headers
	 * @throws IllegalArgumentException when the topic is blank or the record exceeds {@code max.request.size}
	 * @throws io.github.reliablekafka.support.PayloadCodecException when the payload cannot be encoded
	 */
	public ProducerRecord<String, byte[]> create(String topic, @Nullable String key, @Nullable Object payload) {
		Assert.isTrue(topic != null && !topic.isBlank(), "topic must not be blank");
		byte[] value = this.codec.encode(payload);
		RecordHeaders headers = new RecordHeaders();
		RkHeaders.set(headers, RkHeaders.ID, MessageIds.next());
		RkHeaders.set(headers, RkHeaders.CREATED_AT, Long.toString(System.currentTimeMillis()));
		ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, null, key, value, headers);
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
