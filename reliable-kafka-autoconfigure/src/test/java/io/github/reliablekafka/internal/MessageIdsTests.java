package io.github.reliablekafka.internal;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MessageIdsTests {

	@Test
	void idsAreUniqueVersion7UuidsThatSortByCreationTime() throws Exception {
		Set<String> ids = new HashSet<>();
		String previousMillisId = MessageIds.next();
		for (int i = 0; i < 100_000; i++) {
			ids.add(MessageIds.next());
		}
		assertThat(ids).hasSize(100_000);
		UUID uuid = UUID.fromString(previousMillisId);
		assertThat(uuid.version()).isEqualTo(7);
		assertThat(uuid.variant()).isEqualTo(2);
		Thread.sleep(2);
		assertThat(MessageIds.next()).isGreaterThan(previousMillisId);
	}

	@Test
	void idsDrawnFromManyThreadsAtOnceAreUniqueAndUseEveryRandomBit() throws Exception {
		int threads = 8;
		int each = 50_000;
		java.util.Set<String> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
		long[] seenBits = new long[2];
		java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
		try {
			java.util.List<java.util.concurrent.Future<long[]>> results = new java.util.ArrayList<>();
			for (int t = 0; t < threads; t++) {
				results.add(pool.submit(() -> {
					long randA = 0;
					long randB = 0;
					for (int i = 0; i < each; i++) {
						String id = MessageIds.next();
						ids.add(id);
						UUID uuid = UUID.fromString(id);
						randA |= uuid.getMostSignificantBits() & 0xFFF;
						randB |= uuid.getLeastSignificantBits() & 0x3FFFFFFFFFFFFFFFL;
					}
					return new long[] { randA, randB };
				}));
			}
			for (java.util.concurrent.Future<long[]> result : results) {
				long[] bits = result.get();
				seenBits[0] |= bits[0];
				seenBits[1] |= bits[1];
			}
		}
		finally {
			pool.shutdownNow();
		}
		System.out.printf("message ids: %,d drawn on %d threads, %,d distinct%n", threads * each, threads, ids.size());
		assertThat(ids).as("no id twice").hasSize(threads * each);
		assertThat(seenBits[0]).as("every bit of rand_a varies").isEqualTo(0xFFFL);
		assertThat(seenBits[1]).as("every bit of rand_b varies").isEqualTo(0x3FFFFFFFFFFFFFFFL);
	}

}
