package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.internal.MessageIds;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The Redis guard: {@code SET key PROCESSING NX PX <lease>} claims a key (in one script with the claim count); the
 * work runs; the value becomes {@code DONE} with the TTL; if the work fails, the claim is removed (only if still
 * this consumer's) so that a retry can run. A key found {@code DONE} is a duplicate. A key found
 * {@code PROCESSING} is held by another consumer (or by one that died: the claim expires after the lease), and the
 * record waits. Without Redis it does not process: the record waits.
 * <p>
 * On a consumer thread ({@link #executeDeferring}) the {@code DONE} of a record goes with the claim of the thread's
 * next record, in one script and one round trip, or is written by {@link #flushDeferred()} at the end of the poll,
 * before the offsets are committed: one round trip per record instead of two, and the {@code DONE} no later, since
 * the next record's claim follows at once.
 */
final class RedisIdempotencyGuard implements IdempotencyGuard {

	private static final Logger logger = LoggerFactory.getLogger(IdempotencyGuard.class);

	private static final String CLAIM_TEXT = """
			local state = redis.call('GET', KEYS[1])
			if state == 'DONE' then return -1 end
			if state then return -2 end
			redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
			local claims = redis.call('INCR', KEYS[2])
			redis.call('PEXPIRE', KEYS[2], ARGV[3])
			return claims""";

	private static final RedisScript<Long> CLAIM = new DefaultRedisScript<>(CLAIM_TEXT, Long.class);

	/** {@link #CLAIM}, after marking {@code DONE} the record this thread ran before ({@code KEYS[3]}). */
	private static final RedisScript<Long> DONE_THEN_CLAIM = new DefaultRedisScript<>(
			"redis.call('SET', KEYS[3], 'DONE', 'PX', ARGV[4])\n" + CLAIM_TEXT, Long.class);

	/** Remove this consumer's claim, and take back its count: a failure that was caught is not a crash. */
	private static final RedisScript<Long> RELEASE = new DefaultRedisScript<>("""
			if redis.call('GET', KEYS[1]) == ARGV[1] then
				redis.call('DECR', KEYS[2])
				return redis.call('DEL', KEYS[1])
			end
			return 0""", Long.class);

	private final StringRedisTemplate redis;

	private final RedisKeys keys;

	private final Duration ttl;

	private final Duration lease;

	private final int maxClaims;

	private final GuardListener listener;

	private final RedisOutage outage = new RedisOutage(logger,
			"records wait, unprocessed and uncommitted, under the Redis-only idempotency guard");

	/** The record this thread ran whose {@code DONE} waits for the thread's next claim or flush. */
	private final ThreadLocal<@Nullable Done> deferred = new ThreadLocal<>();

	RedisIdempotencyGuard(StringRedisTemplate redis, RedisKeys keys, Duration ttl, Duration lease, int maxClaims,
			GuardListener listener) {
		this.redis = redis;
		this.keys = keys;
		this.ttl = ttl;
		this.lease = lease;
		this.maxClaims = maxClaims;
		this.listener = listener;
	}

	@Override
	public Outcome execute(String group, String key, Work work) throws Exception {
		return run(group, key, work, false);
	}

	@Override
	public Outcome executeDeferring(String group, String key, boolean inFlow, Work work) throws Exception {
		return run(group, key, work, true);
	}

	@Override
	public void flushDeferred() {
		Done done = this.deferred.get();
		if (done != null) {
			this.deferred.remove();
			Uninterrupted.run(() -> markDone(done)); // a lane worker past the drain time-out still writes it
		}
	}

	private Outcome run(String group, String key, Work work, boolean defer) throws Exception {
		String state = this.keys.state(group, key);
		String token = "PROCESSING:" + MessageIds.next(); // unique per claim, drawn from a buffered DRBG
		Done previous = this.deferred.get();
		if (previous != null) {
			this.deferred.remove();
		}
		if (this.outage.skip()) {
			if (previous != null) {
				notMarked(previous, "Redis is unreachable");
			}
			throw unreachable(key, null);
		}
		long claims;
		try {
			String lease = String.valueOf(this.lease.toMillis());
			String claimsTtl = String.valueOf(this.keys.claimsTtl(this.lease, this.maxClaims));
			Long result = (previous != null)
					? this.redis.execute(DONE_THEN_CLAIM, List.of(state, this.keys.claims(group, key), previous.state()),
							token, lease, claimsTtl, String.valueOf(this.ttl.toMillis()))
					: this.redis.execute(CLAIM, List.of(state, this.keys.claims(group, key)), token, lease, claimsTtl);
			claims = (result != null) ? result : -2;
			this.outage.succeeded();
		}
		catch (DataAccessException ex) {
			this.outage.failed(ex);
			if (previous != null) {
				notMarked(previous, ex.getMessage());
			}
			throw unreachable(key, ex);
		}
		if (claims == -1) {
			this.listener.checked(store(), "duplicate");
			return Outcome.DUPLICATE;
		}
		if (claims == -2) {
			throw new GuardUnavailableException("Idempotency key " + key + " of group " + group + " is being "
					+ "processed by another consumer (or one that died: its claim ends within " + this.lease
					+ "); the record waits");
		}
		if (claims > this.maxClaims) {
			release(group, key, token);
			throw JdbcIdempotencyGuard.crashLoop(group, key, claims, this.maxClaims);
		}
		try {
			work.run();
		}
		catch (Exception | Error ex) {
			release(group, key, token);
			throw ex;
		}
		this.listener.checked(store(), "new");
		Done done = new Done(state, group, key);
		if (defer) {
			this.deferred.set(done);
		}
		else {
			markDone(done);
		}
		return Outcome.PROCESSED;
	}

	private void markDone(Done done) {
		try {
			this.redis.opsForValue().set(done.state(), "DONE", this.ttl);
		}
		catch (DataAccessException ex) {
			notMarked(done, ex.getMessage());
		}
	}

	private void notMarked(Done done, @Nullable String why) {
		logger.error("Record with idempotency key {} of group {} was processed but Redis may not have marked it DONE; "
				+ "a redelivery after its claim ends ({}) would run it again: {}", LogText.of(done.key()),
				LogText.of(done.group()), this.lease, why);
	}

	private static GuardUnavailableException unreachable(String key, @Nullable Exception cause) {
		return new GuardUnavailableException("Redis is unreachable; the record with idempotency key " + key
				+ " is not processed without its guard and will be retried", cause);
	}

	private void release(String group, String key, String token) {
		try {
			this.redis.execute(RELEASE, List.of(this.keys.state(group, key), this.keys.claims(group, key)), token);
		}
		catch (DataAccessException ex) {
			logger.warn("Could not remove the claim of idempotency key {} of group {}; it ends after {}: {}", LogText.of(key),
					LogText.of(group),
					this.lease, ex.getMessage());
		}
	}

	@Override
	public List<StoreProbe> probe() {
		return List.of(StoreProbe.of("redis", true, () -> RedisKeys.ping(this.redis)));
	}

	@Override
	public KeyState state(String group, String key) {
		String state = this.redis.opsForValue().get(this.keys.state(group, key));
		if (state == null) {
			return KeyState.ABSENT;
		}
		return "DONE".equals(state) ? KeyState.DONE : KeyState.PROCESSING;
	}

	/**
	 * Keep a dead letter in the message's hash ({@code <prefix>dlt:<rk-id>}), one field per group and dead letter,
	 * kept as long as a done key.
	 */
	@Override
	public void deadLettered(DeadLetterRecord record) {
		String hash = this.keys.deadLetters(record.messageId());
		this.redis.opsForHash().put(hash, RedisKeys.escape(record.group()) + ":" + record.deadLetter(),
				record.at().toEpochMilli() + ":" + RedisKeys.escape(record.source()) + ":"
						+ ((record.reason() != null) ? record.reason() : ""));
		this.redis.expire(hash, this.ttl);
	}

	@Override
	public List<DeadLetterRecord> deadLetters(String messageId) {
		List<DeadLetterRecord> records = new java.util.ArrayList<>();
		for (Map.Entry<Object, Object> field : this.redis.opsForHash().entries(this.keys.deadLetters(messageId))
			.entrySet()) {
			String[] groupAndLetter = field.getKey().toString().split(":", 2);
			String[] value = field.getValue().toString().split(":", 3);
			if (groupAndLetter.length < 2 || value.length < 3) {
				continue; // not written by this guard
			}
			try {
				records.add(new DeadLetterRecord(messageId, RedisKeys.unescape(groupAndLetter[0]), RedisKeys.unescape(value[1]),
						groupAndLetter[1], value[2].isEmpty() ? null : value[2],
						java.time.Instant.ofEpochMilli(Long.parseLong(value[0]))));
			}
			catch (NumberFormatException notOurs) {
				// not written by this guard
			}
		}
		records.sort(java.util.Comparator.comparing(DeadLetterRecord::at));
		return (records.size() > 100) ? records.subList(0, 100) : records;
	}

	@Override
	public String store() {
		return "redis";
	}

	/** A record that ran, to be marked {@code DONE}: its state key, and its group and key for the log. */
	private record Done(String state, String group, String key) {
	}

}
