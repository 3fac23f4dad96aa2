package io.github.reliablekafka.idempotency;

import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.jspecify.annotations.Nullable;

import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.StandardEvaluationContext;
import org.springframework.util.StringUtils;

/**
 * Gives a record its idempotency key: its message id, the hash of its content, or a SpEL expression over
 * {@code #payload} (the value read into the listener's payload type), {@code #record} and {@code #headers} (names to
 * UTF-8 text), such as {@code #payload.orderId + ':' + #payload.status}. Keys longer than 200 characters are
 * replaced by their SHA-256.
 */
public final class IdempotencyKeyResolver {

	private static final int MAX_KEY_LENGTH = 200;

	private static final SpelExpressionParser PARSER = new SpelExpressionParser();

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
					+ "\"#payload.orderId + ':' + #payload.status\")");
		}
		this.strategy = StringUtils.hasText(expression) ? IdempotencyKeyStrategy.EXPRESSION : strategy;
		this.expression = StringUtils.hasText(expression) ? PARSER.parseExpression(expression) : null;
		this.payloadType = payloadType;
		this.codec = codec;
	}

	/**
	 * Return a record's key.
	 * @param record the record
	 * @return the key, at most 200 characters
	 * @throws IllegalArgumentException when the expression gives no key for this record
	 */
	public String keyOf(ConsumerRecord<String, byte[]> record) {
		String key = switch (this.strategy) {
			case MESSAGE_ID -> {
				String id = RkHeaders.id(record.headers());
				yield (id != null) ? id : hash(record);
			}
			case PAYLOAD_HASH -> hash(record);
			case EXPRESSION -> evaluate(record);
		};
		return (key.length() <= MAX_KEY_LENGTH) ? key : "sha256:" + sha256(key.getBytes(StandardCharsets.UTF_8));
	}

	private String evaluate(ConsumerRecord<String, byte[]> record) {
		StandardEvaluationContext context = new StandardEvaluationContext();
		context.setVariable("payload", (this.payloadType != null) ? this.codec.decode(record.value(), this.payloadType)
				: (record.value() != null) ? new String(record.value(), StandardCharsets.UTF_8) : null);
		context.setVariable("record", record);
		Map<String, String> headers = new HashMap<>();
		for (Header header : record.headers()) {
			headers.put(header.key(), (header.value() != null) ? new String(header.value(), StandardCharsets.UTF_8) : null);
		}
		context.setVariable("headers", headers);
		Object key = this.expression.getValue(context);
		if (key == null || key.toString().isBlank()) {
			throw new IllegalArgumentException("The idempotency key expression '"
					+ this.expression.getExpressionString() + "' gave no key for record " + record.topic() + "-"
					+ record.partition() + "@" + record.offset());
		}
		return key.toString();
	}

	private static String hash(ConsumerRecord<String, byte[]> record) {
		byte[] topic = record.topic().getBytes(StandardCharsets.UTF_8);
		byte[] key = (record.key() != null) ? record.key().getBytes(StandardCharsets.UTF_8) : new byte[0];
		byte[] value = (record.value() != null) ? record.value() : new byte[0];
		byte[] all = new byte[topic.length + key.length + value.length + 2];
		System.arraycopy(topic, 0, all, 0, topic.length);
		System.arraycopy(key, 0, all, topic.length + 1, key.length);
		System.arraycopy(value, 0, all, topic.length + key.length + 2, value.length);
		return "sha256:" + sha256(all);
	}

	private static String sha256(byte[] bytes) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
