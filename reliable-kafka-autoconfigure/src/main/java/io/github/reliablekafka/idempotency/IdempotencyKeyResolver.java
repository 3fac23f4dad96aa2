package io.github.reliablekafka.idempotency;

import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

import com.alibaba.fastjson2.JSON;
import io.github.reliablekafka.internal.ThrottledLog;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.SimpleEvaluationContext;
import org.springframework.util.StringUtils;

/**
 * Gives a record its idempotency key: its message id, the hash of its content, or a SpEL expression over
 * {@code #payload} (the value read into the listener's payload type), {@code #record} and {@code #headers} (names to
 * UTF-8 text), such as {@code {#payload.orderId, #payload.status}}.
 *
 * <p>
 * <b>Forgery:</b> keys are namespaced by where they come from ({@code id:}, {@code hash:}, {@code expr:}), so no
 * header can make a record take a key of another source; an {@code rk-id} that is not a well-formed message id (a
 * UUID in its canonical text form) is treated as absent, and the record is keyed by its content. The payload hash
 * encodes the lengths of topic, key and value, so no two different records share its input. An expression that gives
 * a list or an array is keyed by the JSON text of its elements, so ({@code "1", "PAID:X"}) and
 * ({@code "1:PAID", "X"}) are different keys. Expressions run in a read-only data-binding context: properties and
 * methods of the values given, no types, constructors or assignments. Keys longer than 200 characters are replaced
 * by their SHA-256.
 */
public final class IdempotencyKeyResolver {

	private static final int MAX_KEY_LENGTH = 200;

	private static final SpelExpressionParser PARSER = new SpelExpressionParser();

	private static final Logger logger = LoggerFactory.getLogger(IdempotencyKeyResolver.class);

	private final ThrottledLog malformedIds = new ThrottledLog(logger, "Records whose rk-id header is not a message id "
			+ "are keyed by their content", Duration.ofMinutes(5));

	private final IdempotencyKeyStrategy strategy;

	private final @Nullable Expression expression;

	private final @Nullable Type payloadType;

	private final PayloadCodec codec;

	/**
	 * Create a resolver.
	 * @param strategy the strategy
	 * @param expression the SpEL expression, required with {@link IdempotencyKeyStrategy#EXPRESSION}
	 * @param payloadType the type {@code #payload} is read into; {@code null} for the value as text
	 * @param codec reads the payload
	 * @throws IllegalArgumentException when the expression is missing or cannot be parsed
	 */
	public IdempotencyKeyResolver(IdempotencyKeyStrategy strategy, @Nullable String expression,
			@Nullable Type payloadType, PayloadCodec codec) {
		if (strategy == IdempotencyKeyStrategy.EXPRESSION && !StringUtils.hasText(expression)) {
			throw new IllegalArgumentException("reliable.kafka.consumer.idempotency.key=expression needs an "
					+ "idempotencyKey expression on the listener, such as @ReliableListener(idempotencyKey = "
					+ "\"{#payload.orderId, #payload.status}\")");
		}
		this.strategy = StringUtils.hasText(expression) ? IdempotencyKeyStrategy.EXPRESSION : strategy;
		this.expression = StringUtils.hasText(expression) ? PARSER.parseExpression(expression) : null;
		this.payloadType = payloadType;
		this.codec = codec;
	}

	/**
	 * Return the strategy this resolver keys by: {@link IdempotencyKeyStrategy#EXPRESSION} when its listener has an
	 * expression, else the configured one.
	 * @return the strategy
	 */
	public IdempotencyKeyStrategy strategy() {
		return this.strategy;
	}

	/**
	 * Return a record's key.
	 * @param record the record
	 * @return the key: a namespace ({@code id:}, {@code hash:}, {@code expr:}) and at most 200 characters
	 * @throws IllegalArgumentException when the expression gives no key for this record
	 */
	public String keyOf(ConsumerRecord<String, byte[]> record) {
		return switch (this.strategy) {
			case MESSAGE_ID -> {
				String id = messageId(record);
				yield (id != null) ? "id:" + id : hash(record);
			}
			case PAYLOAD_HASH -> hash(record);
			case EXPRESSION -> bounded("expr:", evaluate(record));
		};
	}

	/** The record's message id in lower case, or {@code null} when it has none, or one that is not well formed. */
	private @Nullable String messageId(ConsumerRecord<String, byte[]> record) {
		String id = RkHeaders.id(record.headers());
		if (id == null) {
			return null;
		}
		if (!RkHeaders.isMessageId(id)) {
			this.malformedIds.failed("an rk-id of " + id.length() + " characters that is not a UUID, as in "
					+ record.topic() + "-" + record.partition() + "@" + record.offset(), "");
			return null;
		}
		return id.toLowerCase(Locale.ROOT);
	}

	private static String bounded(String namespace, String key) {
		return (key.length() <= MAX_KEY_LENGTH) ? namespace + key
				: namespace + "sha256:" + sha256(key.getBytes(StandardCharsets.UTF_8));
	}

	private String evaluate(ConsumerRecord<String, byte[]> record) {
		SimpleEvaluationContext context = SimpleEvaluationContext.forReadOnlyDataBinding().withInstanceMethods().build();
		context.setVariable("payload", (this.payloadType != null) ? this.codec.decode(record.value(), this.payloadType)
				: (record.value() != null) ? new String(record.value(), StandardCharsets.UTF_8) : null);
		context.setVariable("record", record);
		Map<String, String> headers = new HashMap<>();
		for (Header header : record.headers()) {
			headers.put(header.key(), (header.value() != null) ? new String(header.value(), StandardCharsets.UTF_8) : null);
		}
		context.setVariable("headers", headers);
		Object key = this.expression.getValue(context);
		if (key instanceof Object[] array) {
			key = Arrays.asList(array);
		}
		String text = (key instanceof Collection<?> parts) ? JSON.toJSONString(parts) : String.valueOf(key);
		if (key == null || text.isBlank()) {
			throw new IllegalArgumentException("The idempotency key expression '"
					+ this.expression.getExpressionString() + "' gave no key for record " + record.topic() + "-"
					+ record.partition() + "@" + record.offset());
		}
		return text;
	}

	/** The SHA-256 of topic, key and value, each preceded by its length (no two records share the input). */
	private static String hash(ConsumerRecord<String, byte[]> record) {
		MessageDigest digest = sha256();
		update(digest, record.topic().getBytes(StandardCharsets.UTF_8));
		update(digest, (record.key() != null) ? record.key().getBytes(StandardCharsets.UTF_8) : null);
		update(digest, record.value());
		return "hash:" + HexFormat.of().formatHex(digest.digest());
	}

	private static void update(MessageDigest digest, byte @Nullable [] part) {
		int length = (part != null) ? part.length : -1;
		digest.update(new byte[] { (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length });
		if (part != null) {
			digest.update(part);
		}
	}

	private static MessageDigest sha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static String sha256(byte[] bytes) {
		return HexFormat.of().formatHex(sha256().digest(bytes));
	}

}
