package io.github.reliablekafka.consumer;

import java.lang.reflect.Type;
import java.util.Map;

import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.PayloadCodecException;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.KafkaNull;
import org.springframework.kafka.support.SimpleKafkaHeaderMapper;
import org.springframework.kafka.support.converter.ConversionException;
import org.springframework.kafka.support.converter.MessagingMessageConverter;

/**
 * Reads a record's value into the type the listener method declares, with the {@link PayloadCodec}: a value that
 * cannot be read as that type fails with a {@link ConversionException}, which is never retried. The library's
 * {@code rk-*} headers arrive as {@code String}s.
 */
final class PayloadMessageConverter extends MessagingMessageConverter {

	private final PayloadCodec codec;

	private final NullPayload nullPayload;

	/**
	 * Create a converter.
	 * @param codec reads payloads
	 * @param nullPayload what a null or empty value means
	 */
	PayloadMessageConverter(PayloadCodec codec, NullPayload nullPayload) {
		this.codec = codec;
		this.nullPayload = nullPayload;
		SimpleKafkaHeaderMapper headers = new SimpleKafkaHeaderMapper();
		headers.setRawMappedHeaders(Map.of(RkHeaders.ID, true, RkHeaders.CREATED_AT, true, RkHeaders.ATTEMPT, true,
				RkHeaders.DUE_AT, true, RkHeaders.TARGET_TOPIC, true));
		setHeaderMapper(headers);
	}

	@Override
	protected Object extractAndConvertValue(ConsumerRecord<?, ?> record, @Nullable Type type) {
		Object value = record.value();
		if (isEmpty(value)) {
			if (this.nullPayload == NullPayload.DEAD_LETTER) {
				throw new ConversionException("Record " + position(record) + " has a null or empty payload "
						+ "(reliable.kafka.consumer.null-payload=dead-letter)", record, null);
			}
			return KafkaNull.INSTANCE;
		}
		if (!(value instanceof byte[] bytes) || type == null || type == Object.class || type == byte[].class) {
			return value;
		}
		try {
			Object payload = this.codec.decode(bytes, type);
			return (payload != null) ? payload : KafkaNull.INSTANCE;
		}
		catch (PayloadCodecException ex) {
			throw new ConversionException("Cannot read the payload of record " + position(record) + " as "
					+ type.getTypeName() + ": " + ex.getMessage(), record, ex);
		}
	}

	static boolean isEmpty(@Nullable Object value) {
		return value == null || (value instanceof byte[] bytes && bytes.length == 0);
	}

	static String position(ConsumerRecord<?, ?> record) {
		return record.topic() + "-" + record.partition() + "@" + record.offset();
	}

}
