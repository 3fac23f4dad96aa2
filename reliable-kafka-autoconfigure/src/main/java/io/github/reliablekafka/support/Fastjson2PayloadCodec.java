package io.github.reliablekafka.support;

import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.alibaba.fastjson2.JSON;
import com.alibaba.fastjson2.JSONException;
import com.alibaba.fastjson2.JSONReader;
import com.alibaba.fastjson2.reader.ObjectReaderProvider;
import org.jspecify.annotations.Nullable;

/**
 * fastjson2 codec. Reading never enables autoType: a {@code @type} member in the data is ignored and the value is
 * read only into the requested type, with the codec's own reader provider, whatever the application configured
 * JVM-wide.
 */
final class Fastjson2PayloadCodec implements PayloadCodec {

	static final Fastjson2PayloadCodec INSTANCE = new Fastjson2PayloadCodec();

	/**
	 * The codec's own readers, not fastjson2's JVM-wide ones: other code in the application can install an autoType
	 * handler there (JSONFactory.getDefaultObjectReaderProvider()), which would let {@code @type} in a payload
	 * instantiate classes. Nothing outside the library reaches this one.
	 */
	private static final ObjectReaderProvider READERS = new ObjectReaderProvider();

	/** Where fastjson2 says it stopped: "..., offset 16, character ...". */
	private static final Pattern OFFSET = Pattern.compile("\\boffset (\\d+)");

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
		if (value.length == 0) {
			return null;
		}
		JSONReader.Context context = new JSONReader.Context(READERS);
		context.config(JSONReader.Feature.SupportAutoType, false);
		try (JSONReader reader = JSONReader.of(value, context)) {
			T result = reader.read(type);
			if (!reader.isEnd()) {
				throw new JSONException("input not end, offset " + reader.getOffset());
			}
			return result;
		}
		catch (RuntimeException ex) {
			throw new PayloadCodecException("Cannot read " + value.length + " bytes as " + type.getTypeName() + ": "
					+ reason(value, ex));
		}
	}

	/**
	 * Say why a value could not be read, without a byte of it: the parser's own message quotes the input (up to
	 * tens of kilobytes), and what the library says about a record ends up in logs and dead-letter headers. Whatever
	 * the parser threw (on truncated input fastjson2 throws {@code ArrayIndexOutOfBoundsException}), the reason says
	 * whether the value is malformed JSON, and where, or JSON that does not fit the type.
	 */
	static String reason(byte[] value, RuntimeException failure) {
		String offset = offset(failure);
		if (!JSON.isValid(value)) {
			if (offset != null) {
				return "malformed JSON at offset " + offset;
			}
			return (failure instanceof IndexOutOfBoundsException) ? "malformed JSON: it ends early, at offset "
					+ value.length : "malformed JSON";
		}
		return "well-formed JSON that does not fit the type" + ((offset != null) ? " (at offset " + offset + ")" : "");
	}

	private static @Nullable String offset(RuntimeException failure) {
		String message = failure.getMessage();
		if (!(failure instanceof JSONException) || message == null) {
			return null;
		}
		Matcher matcher = OFFSET.matcher(message);
		return matcher.find() ? matcher.group(1) : null;
	}

}
