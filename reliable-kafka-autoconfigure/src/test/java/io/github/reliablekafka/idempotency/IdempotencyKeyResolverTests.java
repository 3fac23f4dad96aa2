package io.github.reliablekafka.idempotency;

import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class IdempotencyKeyResolverTests {

	record Order(String orderId, String status) {
	}

	private static ConsumerRecord<String, byte[]> record(String key, String value, String id) {
		ConsumerRecord<String, byte[]> record = new ConsumerRecord<>("orders", 0, 7, key,
				(value != null) ? value.getBytes() : null);
		if (id != null) {
			RkHeaders.set(record.headers(), RkHeaders.ID, id);
		}
		return record;
	}

	@Test
	void theMessageIdIsTheKeyAndRecordsWithoutOneFallBackToTheirPayloadHash() {
		IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.MESSAGE_ID, "", null,
				PayloadCodec.fastjson2());
		String id = MessageIds.next();
		assertThat(resolver.keyOf(record("k", "v", id))).isEqualTo("id:" + id);
		assertThat(resolver.keyOf(record("k", "v", id.toUpperCase()))).as("one UUID, in any case").isEqualTo("id:" + id);
		String hash = resolver.keyOf(record("k", "v", null));
		assertThat(hash).startsWith("hash:").hasSize(5 + 64);
		assertThat(resolver.keyOf(record("k", "v", "id-1"))).as("an rk-id that is not a message id is no id")
			.isEqualTo(hash);
		assertThat(resolver.keyOf(record("k", "v", ""))).isEqualTo(hash);
		assertThat(resolver.keyOf(record("k", "v", null))).isEqualTo(hash);
		assertThat(resolver.keyOf(record("k", "w", null))).isNotEqualTo(hash);
		assertThat(resolver.keyOf(record("kv", "", null))).as("key and value are separated")
			.isNotEqualTo(resolver.keyOf(record("k", "v", null)));
		assertThat(resolver.keyOf(record(null, null, null))).startsWith("hash:")
			.isNotEqualTo(resolver.keyOf(record("", "", null)));
	}

	@Test
	void anExpressionSeesThePayloadAsTheListenersTypeTheRecordAndTheHeaders() {
		IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.MESSAGE_ID,
				"#payload.orderId + ':' + #payload.status + ':' + #record.partition + ':' + #headers['rk-id']",
				Order.class, PayloadCodec.fastjson2());
		assertThat(resolver.keyOf(record("k", "{\"orderId\":\"o-1\",\"status\":\"PAID\"}", "id-9")))
			.isEqualTo("expr:o-1:PAID:0:id-9");
	}

	@Test
	void anExpressionThatGivesAListIsKeyedByItsPartsUnambiguously() {
		IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION,
				"{#payload.orderId, #payload.status}", Order.class, PayloadCodec.fastjson2());
		String first = resolver.keyOf(record("k", "{\"orderId\":\"1\",\"status\":\"PAID:X\"}", null));
		String second = resolver.keyOf(record("k", "{\"orderId\":\"1:PAID\",\"status\":\"X\"}", null));
		assertThat(first).isEqualTo("expr:[\"1\",\"PAID:X\"]").isNotEqualTo(second);
	}

	@Test
	void anExpressionCannotReachTypesOrConstructors() {
		for (String expression : new String[] { "T(java.lang.Runtime).getRuntime().toString()",
				"new java.io.File('/tmp/x').getName()" }) {
			IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION, expression,
					null, PayloadCodec.fastjson2());
			assertThatExceptionOfType(org.springframework.expression.EvaluationException.class)
				.isThrownBy(() -> resolver.keyOf(record("k", "v", null)));
		}
	}

	@Test
	void longKeysAreHashed() {
		IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION, "#payload", null,
				PayloadCodec.fastjson2());
		String key = resolver.keyOf(record("k", "x".repeat(300), null));
		assertThat(key).startsWith("expr:sha256:").hasSizeLessThanOrEqualTo(220);
	}

	@Test
	void anExpressionThatGivesNoKeyIsAClearError() {
		IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION,
				"#payload.status", Order.class, PayloadCodec.fastjson2());
		assertThatIllegalArgumentException().isThrownBy(() -> resolver.keyOf(record("k", "{\"orderId\":\"o\"}", null)))
			.withMessageContaining("gave no key for record orders-0@7");
	}

	@Test
	void theExpressionStrategyNeedsAnExpression() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new IdempotencyKeyResolver(IdempotencyKeyStrategy.EXPRESSION, "", null,
					PayloadCodec.fastjson2()))
			.withMessageContaining("needs an idempotencyKey expression");
	}

}
