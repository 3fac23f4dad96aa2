package io.github.reliablekafka.idempotency;

import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
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
		assertThat(resolver.keyOf(record("k", "v", "id-1"))).isEqualTo("id-1");
		String hash = resolver.keyOf(record("k", "v", null));
		assertThat(hash).startsWith("sha256:").hasSize(7 + 64);
		assertThat(resolver.keyOf(record("k", "v", null))).isEqualTo(hash);
		assertThat(resolver.keyOf(record("k", "w", null))).isNotEqualTo(hash);
		assertThat(resolver.keyOf(record("kv", "", null))).as("key and value are separated")
			.isNotEqualTo(resolver.keyOf(record("k", "v", null)));
		assertThat(resolver.keyOf(record(null, null, null))).startsWith("sha256:");
	}

	@Test
	void anExpressionSeesThePayloadAsTheListenersTypeTheRecordAndTheHeaders() {
		IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.MESSAGE_ID,
				"#payload.orderId + ':' + #payload.status + ':' + #record.partition + ':' + #headers['rk-id']",
				Order.class, PayloadCodec.fastjson2());
		assertThat(resolver.keyOf(record("k", "{\"orderId\":\"o-1\",\"status\":\"PAID\"}", "id-9")))
			.isEqualTo("o-1:PAID:0:id-9");
	}

	@Test
	void longKeysAreHashed() {
		IdempotencyKeyResolver resolver = new IdempotencyKeyResolver(IdempotencyKeyStrategy.MESSAGE_ID, "", null,
				PayloadCodec.fastjson2());
		String key = resolver.keyOf(record("k", "v", "x".repeat(300)));
		assertThat(key).startsWith("sha256:").hasSizeLessThanOrEqualTo(200);
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
