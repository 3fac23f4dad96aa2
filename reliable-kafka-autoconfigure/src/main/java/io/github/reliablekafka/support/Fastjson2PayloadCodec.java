package io.github.reliablekafka.support;

import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;

import com.alibaba.fastjson2.JSON;
import org.jspecify.annotations.Nullable;

/**
 * fastjson2 codec. Reading never enables autoType: a {@code @type} member in the data is ignored and the value is
 * read only into the requested type.
 */
final class Fastjson2PayloadCodec implements PayloadCodec {

	static final Fastjson2PayloadCodec INSTANCE = new Fastjson2PayloadCodec();

	private Fastjson2PayloadCodec() {
	}

	@Override
	public byte @Nullable [] encode(@Nullable Object payload) {
		if (payload == null) {
			return null;
		}
		if (payload instanceof byte[] bytes) {
			return bytes;
		}
		if (payload instanceof String text) {
			return text.getBytes(StandardCharsets.UTF_8);
		}
		try {
			return JSON.toJSONBytes(payload);
		}
		catch (RuntimeException ex) {
			throw new PayloadCodecException("Cannot serialize payload of type " + payload.getClass().getName()
					+ " to JSON: " + ex.getMessage(), ex);
		}
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> @Nullable T decode(byte @Nullable [] value, Type type) {
		if (value == null) {
			return null;
		}
		if (type == byte[].class) {
			return (T) value;
		}
		if (type == String.class) {
			return (T) new String(value, StandardCharsets.UTF_8);
		}
		try {
			return JSON.parseObject(value, type);
		}
		catch (RuntimeException ex) {
			throw new PayloadCodecException("Cannot read " + value.length + " bytes as " + type.getTypeName() + ": "
					+ ex.getMessage(), ex);
		}
	}

}
