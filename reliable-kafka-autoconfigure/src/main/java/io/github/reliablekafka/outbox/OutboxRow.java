package io.github.reliablekafka.outbox;

import org.jspecify.annotations.Nullable;

/**
 * One outbox row as the store writes and the relay publishes it. Times are epoch milliseconds.
 */
record OutboxRow(long id, String messageId, String topic, @Nullable String key, byte @Nullable [] payload,
		byte @Nullable [] headers, long createdAt, long notBefore, int attempts) {

	/**
	 * Return the hash the key index is built on: equal for equal topic and key, {@code null} without a key (rows
	 * without a key have no order to keep).
	 */
	static @Nullable Long keyHash(String topic, @Nullable String key) {
		if (key == null) {
			return null;
		}
		long hash = 0xcbf29ce484222325L; // FNV-1a, 64 bit
		for (int i = 0; i < topic.length(); i++) {
			hash = (hash ^ topic.charAt(i)) * 0x100000001b3L;
		}
		hash = (hash ^ 0) * 0x100000001b3L;
		for (int i = 0; i < key.length(); i++) {
			hash = (hash ^ key.charAt(i)) * 0x100000001b3L;
		}
		return hash;
	}

}
