package io.github.reliablekafka.idempotency;

import java.time.Duration;

import org.springframework.data.redis.connection.RedisConnectionCommands;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The Redis keys of the guards: {@code <prefix><group>:<key>} holds the state ({@code PROCESSING:<token>} or
 * {@code DONE}), {@code <prefix><group>:<key>:claims} counts claims. Group and key are written with {@code %} and
 * {@code :} escaped ({@code %25}, {@code %3A}), so that no idempotency key or group can name another key's state or
 * claim count.
 */
final class RedisKeys {

	private final String prefix;

	RedisKeys(String prefix) {
		this.prefix = prefix;
	}

	String state(String group, String key) {
		return this.prefix + escape(group) + ":" + escape(key);
	}

	/** The hash of a message's dead letters: one field per group and dead letter. */
	String deadLetters(String messageId) {
		return this.prefix + "dlt:" + escape(messageId);
	}

	static String escape(String part) {
		return (part.indexOf('%') < 0 && part.indexOf(':') < 0) ? part
				: part.replace("%", "%25").replace(":", "%3A");
	}

	static String unescape(String part) {
		return (part.indexOf('%') < 0) ? part : part.replace("%3A", ":").replace("%25", "%");
	}

	String claims(String group, String key) {
		return state(group, key) + ":claims";
	}

	/**
	 * How long a claim count is kept: long enough to see every allowed claim of a record that dies each time and
	 * waits for its claim to end before the next.
	 */
	long claimsTtl(Duration lease, int maxClaims) {
		return Math.max(Duration.ofMinutes(10).toMillis(), lease.toMillis() * (maxClaims + 1) * 2);
	}

	/**
	 * Check that Redis answers.
	 * @param redis the template
	 * @throws org.springframework.dao.DataAccessException when it does not
	 */
	static void ping(StringRedisTemplate redis) {
		redis.execute((RedisCallback<String>) RedisConnectionCommands::ping);
	}

}
