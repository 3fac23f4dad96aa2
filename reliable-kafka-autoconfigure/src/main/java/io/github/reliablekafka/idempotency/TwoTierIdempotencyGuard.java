package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Redis in front, the ledger as the final word: Redis says {@code DONE}, the record is skipped without touching the
 * database; otherwise the ledger decides inside the transaction with the work; after the commit Redis is told
 * {@code DONE} (never before: a rollback leaves no {@code DONE}) by {@link DoneWrites}, from a background thread and
 * many keys to a round trip, so that the listener does not wait for it. Claims are counted in Redis. If Redis is
 * unreachable the ledger alone decides (counted as a fallback, logged once per outage; Redis is probed once a second,
 * not on every record) and claims are not counted until Redis is back.
 */
final class TwoTierIdempotencyGuard implements IdempotencyGuard, DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(IdempotencyGuard.class);

	private static final RedisScript<Long> CHECK = new DefaultRedisScript<>("""
			if redis.call('GET', KEYS[1]) == 'DONE' then return -1 end
			local claims = redis.call('INCR', KEYS[2])
			redis.call('PEXPIRE', KEYS[2], ARGV[1])
			return claims""", Long.class);

	private final StringRedisTemplate redis;

	private final RedisKeys keys;

	private final ConsumedLedger ledger;

	private final TransactionTemplate transactions;

	private final Duration lease;

	private final int maxClaims;

	private final GuardListener listener;

	/** Keys over the claim limit, waiting to be told a crash loop or a race. */
	private final CrashLoopSuspects suspects = new CrashLoopSuspects();

	/** Tells Redis DONE after commits, from a background thread. */
	private final DoneWrites doneWrites;

	private final RedisOutage outage = new RedisOutage(logger,
			"the two-tier idempotency guard decides with the database ledger alone");

	TwoTierIdempotencyGuard(StringRedisTemplate redis, RedisKeys keys, ConsumedLedger ledger,
			TransactionTemplate transactions, Duration ttl, Duration lease, int maxClaims, GuardListener listener) {
		this.redis = redis;
		this.keys = keys;
		this.ledger = ledger;
		this.transactions = transactions;
		this.lease = lease;
		this.maxClaims = maxClaims;
		this.listener = listener;
		this.doneWrites = new DoneWrites(redis, ttl, this.outage::isDown);
	}

	@Override
	public Outcome execute(String group, String key, Work work) throws Exception {
		Long claims = check(group, key);
		if (claims != null && claims < 0) {
			this.listener.checked(store(), "duplicate");
			return Outcome.DUPLICATE;
		}
		Outcome outcome;
		try {
			outcome = JdbcIdempotencyGuard.inTransaction(this.transactions, group, key,
					() -> this.ledger.markDone(group, key, false), (claims != null) ? claims : 0, this.maxClaims,
					this.suspects, work);
		}
		catch (CrashLoopException ex) {
			throw ex;
		}
		catch (Exception | Error ex) {
			if (claims != null) {
				redisQuietly(() -> this.redis.opsForValue().decrement(this.keys.claims(group, key)));
			}
			throw ex;
		}
		this.listener.checked(store(), (outcome == Outcome.PROCESSED) ? "new" : "duplicate");
		String state = this.keys.state(group, key);
		// after the commit, off the listener's thread: the ledger already says DONE, Redis only learns it to skip
		// later duplicates without the database (a lost write costs one ledger lookup, never a second effect)
		this.doneWrites.add(state);
		return outcome;
	}

	/**
	 * Straight to the ledger, which decides as always; Redis is not asked (a duplicate here is rare, and costs a
	 * rolled-back transaction instead of a round trip) and no claim is counted. Redis learns {@code DONE} after the
	 * commit, as for any record.
	 */
	@Override
	public Outcome executeInFlow(String group, String key, Work work) throws Exception {
		Outcome outcome = JdbcIdempotencyGuard.inTransaction(this.transactions, group, key,
				() -> this.ledger.markDone(group, key, false), 0, this.maxClaims, this.suspects, work);
		this.listener.checked(store(), (outcome == Outcome.PROCESSED) ? "new" : "duplicate");
		this.doneWrites.add(this.keys.state(group, key));
		return outcome;
	}

	/**
	 * Ask Redis: {@code -1} when done, else the claim count; {@code null} when Redis is unreachable.
	 */
	private @Nullable Long check(String group, String key) {
		if (!this.outage.skip()) {
			try {
				Long result = this.redis.execute(CHECK,
						List.of(this.keys.state(group, key), this.keys.claims(group, key)),
						String.valueOf(this.keys.claimsTtl(this.lease, this.maxClaims)));
				this.outage.succeeded();
				return result;
			}
			catch (DataAccessException ex) {
				this.outage.failed(ex);
			}
		}
		this.listener.checked(store(), "fallback");
		return null;
	}

	private void redisQuietly(Runnable call) {
		if (this.outage.isDown()) {
			return;
		}
		try {
			call.run();
		}
		catch (DataAccessException ex) {
			logger.debug("Redis call failed after the database decided; the ledger stays the final word: {}",
					ex.getMessage());
		}
	}

	@Override
	public List<StoreProbe> probe() {
		return List.of(StoreProbe.of("redis", false, () -> RedisKeys.ping(this.redis)),
				StoreProbe.of("ledger", true, this.ledger::ping));
	}

	/**
	 * The ledger's word; when it holds nothing, a claim Redis counted (a delivery runs, or its consumer died) is
	 * {@code PROCESSING}: this guard's work writes the ledger row in its own transaction, unseen until it commits.
	 */
	@Override
	public KeyState state(String group, String key) {
		KeyState ledgerState = this.ledger.state(group, key);
		if (ledgerState != KeyState.ABSENT) {
			return ledgerState;
		}
		try {
			String claims = this.redis.opsForValue().get(this.keys.claims(group, key));
			return (claims != null && Long.parseLong(claims) > 0) ? KeyState.PROCESSING : KeyState.ABSENT;
		}
		catch (DataAccessException | NumberFormatException ex) {
			return ledgerState;
		}
	}

	@Override
	public void deadLettered(DeadLetterRecord record) {
		this.ledger.recordDeadLetter(record);
	}

	@Override
	public List<DeadLetterRecord> deadLetters(String messageId) {
		return this.ledger.deadLetters(messageId);
	}

	@Override
	public String store() {
		return "two-tier";
	}

	@Override
	public void destroy() {
		this.doneWrites.close(); // the writes waiting get DoneWrites.DRAIN_SECONDS
	}

}
