package io.github.reliablekafka.internal;

import org.jspecify.annotations.Nullable;

/**
 * Text from a record (a key, an rk-id) as the library logs it: control characters escaped, so that a CR/LF in a key
 * cannot forge a log line, and long text cut.
 */
public final class LogText {

	private static final int MAX_LENGTH = 200;

	private LogText() {
	}

	/**
	 * Return a text fit for a log line.
	 * @param text the text, from a record
	 * @return it with control characters escaped ({@code \n}, {@code \r}, {@code \t}, {@code \\uXXXX}) and cut to
	 * 200 characters; {@code null} for {@code null}
	 */
	public static @Nullable String of(@Nullable Object text) {
		if (text == null) {
			return null;
		}
		String value = text.toString();
		StringBuilder safe = new StringBuilder(Math.min(value.length(), MAX_LENGTH) + 16);
		for (int i = 0; i < value.length() && safe.length() < MAX_LENGTH; i++) {
			char c = value.charAt(i);
			switch (c) {
				case '\n' -> safe.append("\\n");
				case '\r' -> safe.append("\\r");
				case '\t' -> safe.append("\\t");
				case '\\' -> safe.append("\\\\");
				default -> {
					if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
						safe.append(String.format("\\u%04x", (int) c));
					}
					else {
						safe.append(c);
					}
				}
			}
		}
		if (safe.length() >= MAX_LENGTH && value.length() > MAX_LENGTH) {
			safe.append("...(").append(value.length()).append(" chars)");
		}
		return safe.toString();
	}

}
