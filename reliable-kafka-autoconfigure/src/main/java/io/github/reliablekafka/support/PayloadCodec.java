package io.github.reliablekafka.support;

import java.lang.reflect.Type;

import org.jspecify.annotations.Nullable;

/**
 * Turns payloads into record values and back. The default is {@link #fastjson2()}; an application replaces it
 * by declaring its own {@code PayloadCodec} bean.
 *
 * <p>
 * <b>Safety:</b> a value is only ever read into the type the caller names; a codec must never pick a class from
 * the data (fastjson2's autoType stays off).
 */
public interface PayloadCodec {

	/**
	 * Encode a payload. {@code String} is written as UTF-8 and {@code byte[]} as is; anything else as JSON.
	 * @param payload the payload, or {@code null} for a tombstone
	 * @return the record value, or {@code null} for {@code null}
	 * @throws PayloadCodecException when the payload cannot be encoded
	 */
	byte @Nullable [] encode(@Nullable Object payload);

	/**
	 * Decode a record value into the given type.
	 * @param <T> the target type
	 * @param value the record value
	 * @param type the target type: {@code String} and {@code byte[]} are returned as they are
	 * @return the payload
	 * @throws PayloadCodecException when the value cannot be read as that type
	 */
	<T> @Nullable T decode(byte @Nullable [] value, Type type);

	/**
	 * Return the default codec, backed by fastjson2 with autoType disabled.
	 * @return the codec
	 */
	static PayloadCodec fastjson2() {
		return Fastjson2PayloadCodec.INSTANCE;
	}

}
