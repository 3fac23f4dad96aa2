package io.github.reliablekafka.internal;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LogTextTests {

	@Test
	void controlCharactersAreEscapedSoThatAKeyCannotStartALogLine() {
		assertThat(LogText.of("evil\r\nINFO forged\tline\\ \u0000\u001b[31m \u2028"))
			.isEqualTo("evil\\r\\nINFO forged\\tline\\\\ \\u0000\\u001b[31m \\u2028");
		assertThat(LogText.of("k-1")).isEqualTo("k-1");
		assertThat(LogText.of(null)).isNull();
	}

	@Test
	void longTextIsCutAndSaysHowLongItWas() {
		String logged = LogText.of("x".repeat(100_000));
		assertThat(logged).startsWith("x".repeat(200)).endsWith("...(100000 chars)").hasSize(200 + 17);
		assertThat(LogText.of("x".repeat(200))).isEqualTo("x".repeat(200));
	}

}
