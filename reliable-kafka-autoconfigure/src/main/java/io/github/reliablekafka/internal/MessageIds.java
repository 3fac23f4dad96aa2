package io.github.reliablekafka.internal;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * Creates message ids: time-ordered UUIDs (version 7, RFC 9562), unique without coordination and friendly to
 * database indexes because ids created later sort later.
 */
public final class MessageIds {

	private static final SecureRandom RANDOM = new SecureRandom();

	private MessageIds() {
	}

	/**
	 * Return a new message id.
	 * @return a version 7 UUID in its canonical text form
	 */
	public static String next() {
		long millis = System.currentTimeMillis();
		long randA = RANDOM.nextInt(1 << 12);
		long msb = (millis << 16) | (0x7L << 12) | randA;
		long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
		return new UUID(msb, lsb).toString();
	}

}
