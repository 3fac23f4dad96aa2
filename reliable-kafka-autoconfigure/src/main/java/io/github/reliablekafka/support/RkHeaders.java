package io.github.reliablekafka.support;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.jspecify.annotations.Nullable;

/**
 * The record headers the library owns. Values are UTF-8 text so that any client can read them.
 *
 * <ul>
 * <li>{@link #ID} {@code rk-id}: the message id, set once per logical message and kept on every re-send,
 * relay, delay hop and dead letter; idempotency guards key on it.</li>
 * <li>{@link #CREATED_AT} {@code rk-created-at}: when the application sent the message, epoch milliseconds.</li>
 * <li>{@link #ATTEMPT} {@code rk-attempt}: how many times a listener asked for the record to come back later.</li>
 * <li>{@link #DUE_AT} {@code rk-due-at}: epoch milliseconds before which a delayed record is not delivered.</li>
 * <li>{@link #TARGET_TOPIC} {@code rk-target-topic}: where a delayed record goes when it is due.</li>
 * </ul>
 * Dead-letter records also keep spring-kafka's {@code kafka_dlt-*} headers.
 */
public final class RkHeaders {

	/** The message id header. */
	public static final String ID = "rk-id";

	/** The creation time header, epoch milliseconds. */
	public static final String CREATED_AT = "rk-created-at";

	/** The retry-later attempt header. */
	public static final String ATTEMPT = "rk-attempt";

	/** The due time of a delayed record, epoch milliseconds. */
	public static final String DUE_AT = "rk-due-at";

	/** The topic a delayed record is forwarded to when due. */
	public static final String TARGET_TOPIC = "rk-target-topic";

	/** The broker's delivery count of a share-group record, on its dead letter. */
	public static final String DELIVERY_COUNT = "rk-delivery-count";

	private static final Pattern MESSAGE_ID = Pattern
		.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

	private RkHeaders() {
	}

	/**
	 * Return the last value of a header as text.
	 * @param headers the record headers
	 * @param name the header name
	 * @return the value, or {@code null} when the header is absent or has no value
	 */
	public static @Nullable String text(Headers headers, String name) {
		Header header = headers.lastHeader(name);
		if (header == null || header.value() == null) {
			return null;
		}
		return new String(header.value(), StandardCharsets.UTF_8);
	}

	/**
	 * Return the message id of a record.
	 * @param headers the record headers
	 * @return the {@code rk-id} value, or {@code null} when the record was not sent by this library
	 */
	public static @Nullable String id(Headers headers) {
		return text(headers, ID);
	}

	/**
	 * Return whether a text is a well-formed message id: a UUID in its canonical text form (36 characters, any case).
	 * An {@code rk-id} header that is not one is treated as absent wherever the library keys or records by it.
	 * @param text the text
	 * @return whether it is a message id
	 */
	public static boolean isMessageId(@Nullable String text) {
		return text != null && text.length() == 36 && MESSAGE_ID.matcher(text).matches();
	}

	/**
	 * Replace a header with a text value.
	 * @param headers the record headers
	 * @param name the header name
	 * @param value the value, written as UTF-8
	 */
	public static void set(Headers headers, String name, String value) {
		headers.remove(name);
		headers.add(name, value.getBytes(StandardCharsets.UTF_8));
	}

}
