package io.github.reliablekafka.internal;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Creates message ids: time-ordered UUIDs (version 7, RFC 9562), unique without coordination and friendly to
 * database indexes because ids created later sort later. The 74 random bits of each id come from a
 * {@link SecureRandom} (the JDK's {@code DRBG}, SHA-256 Hash_DRBG of NIST SP 800-90A, where the JDK has it; 3.3 ns a
 * byte here against 11.7 for the default {@code NativePRNG}), drawn {@value #BUFFER} bytes at a time: one call of the
 * generator per 409 ids instead of two per id (those calls had cost about a microsecond per send, a third of what a
 * raw send costs).
 */
public final class MessageIds {

	private static final int BUFFER = 4096;

	/** Bytes of randomness an id takes: 12 bits for {@code rand_a}, 62 for {@code rand_b}. */
	private static final int PER_ID = 10;

	private static final SecureRandom RANDOM = generator();

	private static final ReentrantLock lock = new ReentrantLock();

	private static final byte[] random = new byte[BUFFER];

	private static int next = BUFFER;

	private MessageIds() {
	}

	/**
	 * Return a new message id.
	 * @return a version 7 UUID in its canonical text form
	 */
	public static String next() {
		long millis = System.currentTimeMillis();
		long randA;
		long randB = 0;
		lock.lock();
		try {
			if (next + PER_ID > BUFFER) {
				RANDOM.nextBytes(random);
				next = 0;
			}
			randA = ((random[next] & 0xFL) << 8) | (random[next + 1] & 0xFFL);
			for (int i = 2; i < PER_ID; i++) {
				randB = (randB << 8) | (random[next + i] & 0xFFL);
			}
			next += PER_ID;
		}
		finally {
			lock.unlock();
		}
		long msb = (millis << 16) | (0x7L << 12) | randA;
		long lsb = (randB & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
		return new UUID(msb, lsb).toString();
	}

	private static SecureRandom generator() {
		try {
			return SecureRandom.getInstance("DRBG");
		}
		catch (NoSuchAlgorithmException ex) {
			return new SecureRandom();
		}
	}

}
