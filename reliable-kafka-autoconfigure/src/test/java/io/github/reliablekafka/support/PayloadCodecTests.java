package io.github.reliablekafka.support;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class PayloadCodecTests {

	private final PayloadCodec codec = PayloadCodec.fastjson2();

	@Test
	void stringsAndBytesPassThrough() {
		assertThat(this.codec.encode("héllo")).isEqualTo("héllo".getBytes(StandardCharsets.UTF_8));
		byte[] raw = { 0, 1, 2, (byte) 0xff };
		assertThat(this.codec.encode(raw)).isSameAs(raw);
		assertThat(this.codec.<String>decode("héllo".getBytes(StandardCharsets.UTF_8), String.class)).isEqualTo("héllo");
		assertThat(this.codec.<byte[]>decode(raw, byte[].class)).isSameAs(raw);
	}

	@Test
	void objectsRoundTripAsJson() {
		byte[] json = this.codec.encode(new Order("o-1", 3, List.of("a", "b")));
		assertThat(new String(json, StandardCharsets.UTF_8)).isEqualTo("{\"items\":[\"a\",\"b\"],\"orderId\":\"o-1\",\"quantity\":3}");
		Order order = this.codec.decode(json, Order.class);
		assertThat(order).isEqualTo(new Order("o-1", 3, List.of("a", "b")));
	}

	@Test
	void nullIsATombstone() {
		assertThat(this.codec.encode(null)).isNull();
		assertThat(this.codec.<Order>decode(null, Order.class)).isNull();
	}

	@Test
	void malformedJsonFailsWithTheTargetTypeInTheMessage() {
		assertThatExceptionOfType(PayloadCodecException.class)
			.isThrownBy(() -> this.codec.decode("{\"orderId\":".getBytes(StandardCharsets.UTF_8), Order.class))
			.withMessageContaining(Order.class.getName());
	}

	@Test
	void wrongTypeJsonFails() {
		assertThatExceptionOfType(PayloadCodecException.class)
			.isThrownBy(() -> this.codec.decode("{\"quantity\":\"many\"}".getBytes(StandardCharsets.UTF_8), Order.class))
			.withMessageContaining("well-formed JSON that does not fit the type")
			.withMessageNotContaining("many");
	}

	/**
	 * Whatever fastjson2 throws (on truncated input an ArrayIndexOutOfBoundsException), the reason reads as malformed
	 * JSON with the offset, and never quotes the input: it goes to logs and dead-letter headers.
	 */
	@Test
	void malformedJsonSaysSoWithTheOffsetAndNeverQuotesTheInput() {
		String secret = "s3cr3t-" + "x".repeat(200);
		assertThatExceptionOfType(PayloadCodecException.class)
			.isThrownBy(() -> this.codec.decode(("{\"orderId\":\"" + secret + "\",\"quantity\":")
				.getBytes(StandardCharsets.UTF_8), Order.class))
			.satisfies((ex) -> assertThat(ex.getMessage()).matches(".*: malformed JSON(: it ends early,)? at offset \\d+")
				.doesNotContain("s3cr3t"))
			.satisfies((ex) -> assertThat(ex).hasNoCause());
		assertThatExceptionOfType(PayloadCodecException.class)
			.isThrownBy(() -> this.codec.decode("not json, s3cr3t".getBytes(StandardCharsets.UTF_8), Order.class))
			.withMessageEndingWith("malformed JSON at offset 1")
			.withMessageNotContaining("s3cr3t");
		assertThatExceptionOfType(PayloadCodecException.class)
			.isThrownBy(() -> this.codec.decode("{\"orderId\":\"o-1\"}}".getBytes(StandardCharsets.UTF_8), Order.class))
			.withMessageEndingWith("malformed JSON at offset 18");
	}

	@Test
	void autoTypeIsNeverHonoured() {
		byte[] json = "{\"@type\":\"java.net.InetAddress\",\"orderId\":\"o-2\",\"quantity\":1}"
			.getBytes(StandardCharsets.UTF_8);
		Object decoded = this.codec.decode(json, Object.class);
		assertThat(decoded).isNotInstanceOf(java.net.InetAddress.class);
		assertThat(this.codec.<Order>decode(json, Order.class).orderId()).isEqualTo("o-2");
	}

	/** Other code in the application turns autoType on JVM-wide: the codec reads with its own readers all the same. */
	@Test
	void aJvmWideAutoTypeHandlerDoesNotReachTheCodec() {
		byte[] json = ("{\"@type\":\"" + Planted.class.getName() + "\",\"orderId\":\"o-3\"}").getBytes(StandardCharsets.UTF_8);
		com.alibaba.fastjson2.reader.ObjectReaderProvider global = com.alibaba.fastjson2.JSONFactory
			.getDefaultObjectReaderProvider();
		global.setAutoTypeBeforeHandler(com.alibaba.fastjson2.JSONReader.autoTypeFilter(Planted.class.getName()));
		try {
			assertThat(com.alibaba.fastjson2.JSON.parseObject(json, Object.class)).as("fastjson2's own API now obeys @type")
				.isInstanceOf(Planted.class);
			int before = Planted.constructed;
			assertThat(this.codec.<Object>decode(json, Object.class)).isNotInstanceOf(Planted.class);
			assertThat(Planted.constructed - before).as("instances the codec made").isZero();
		}
		finally {
			global.setAutoTypeBeforeHandler(null);
		}
	}

	/** A class a payload names in {@code @type}. */
	public static class Planted {

		static int constructed;

		public String orderId;

		public Planted() {
			constructed++;
		}

	}

	@Test
	void unserializablePayloadFailsClearly() {
		assertThatExceptionOfType(PayloadCodecException.class).isThrownBy(() -> this.codec.encode(new Exploding()))
			.withMessageContaining(Exploding.class.getName());
	}

	record Order(String orderId, int quantity, List<String> items) {
	}

	static class Exploding {

		public String getValue() {
			throw new IllegalStateException("boom");
		}

	}

}
