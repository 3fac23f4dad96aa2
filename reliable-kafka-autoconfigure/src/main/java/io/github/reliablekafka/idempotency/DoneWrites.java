package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * The two-tier guard's {@code DONE} writes to Redis, after the ledger committed: queued by the listeners' threads and
 * written by one background thread, as many as are waiting in one round trip (one script call; at most
 * {@value #BATCH}). The thread waits {@value #LINGER_MILLIS} ms after the first write it is woken for, so that the
 * writes of the records finished meanwhile go in the same round trip instead of one each (Redis is only told sooner
 * what the ledger already says). At most {@value #MAX_WAITING} wait; beyond that a listener's thread writes its own.
 * A write that is lost (Redis unreachable, the application killed) costs one ledger look-up when its record comes
 * again, never a second effect. When closed, the writes waiting get {@value #DRAIN_SECONDS} s.
 */
final class DoneWrites {

	static final int DRAIN_SECONDS = 5;

	private static final int BATCH = 500;

	private static final long LINGER_MILLIS = 5;

	private static final int MAX_WAITING = 10_000;

	/**
	 * Every key given becomes {@code DONE} with the TTL: one round trip on the shared connection (a pipeline would take
	 * a dedicated connection, a new one each time without a pool).
	 */
	private static final RedisScript<Long> SET_DONE = new DefaultRedisScript<>("""
			for _, key in ipairs(KEYS) do
				redis.call('SET', key, 'DONE', 'PX', ARGV[1])
			end
			return #KEYS""", Long.class);

	private static final Logger logger = LoggerFactory.getLogger(IdempotencyGuard.class);

	private final StringRedisTemplate redis;

	private final String ttlMillis;

	/** Whether Redis is known to be down: the writes are then dropped, not tried. */
	private final BooleanSupplier redisDown;

	private final ConcurrentLinkedQueue<String> waiting = new ConcurrentLinkedQueue<>();

	private final AtomicInteger size = new AtomicInteger();

	/** Whether a flush is asked for and has not started draining yet. */
	private final AtomicBoolean flushAsked = new AtomicBoolean();

	private final ThreadPoolTaskExecutor writer = writer();

	DoneWrites(StringRedisTemplate redis, Duration ttl, BooleanSupplier redisDown) {
		this.redis = redis;
		this.ttlMillis = String.valueOf(ttl.toMillis());
		this.redisDown = redisDown;
	}

	/**
	 * Tell Redis that a key is done, soon.
	 * @param state the key's state key
	 */
	void add(String state) {
		if (this.size.incrementAndGet() > MAX_WAITING) {
			this.size.decrementAndGet();
			write(List.of(state)); // Redis is slower than the listeners: this thread writes its own
			return;
		}
		this.waiting.add(state);
		if (this.flushAsked.compareAndSet(false, true)) {
			try {
				this.writer.execute(this::flush);
			}
			catch (RuntimeException ex) { // closed: written by this thread
				this.flushAsked.set(false);
				flush();
			}
		}
	}

	private void flush() {
		try {
			Thread.sleep(LINGER_MILLIS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		Uninterrupted.run(this::drain); // interrupted or not, what waits is written now
	}

	private void drain() {
		this.flushAsked.set(false); // a write queued from here on asks for another flush
		List<String> batch = new ArrayList<>(BATCH);
		String state;
		while ((state = this.waiting.poll()) != null) {
			this.size.decrementAndGet();
			batch.add(state);
			if (batch.size() == BATCH) {
				write(batch);
				batch.clear();
			}
		}
		if (!batch.isEmpty()) {
			write(batch);
		}
	}

	private void write(List<String> states) {
		if (this.redisDown.getAsBoolean()) {
			return;
		}
		try {
			this.redis.execute(SET_DONE, states, this.ttlMillis);
		}
		catch (DataAccessException ex) {
			logger.debug("Redis could not be told {} key(s) are DONE after the database decided; the ledger stays "
					+ "the final word: {}", states.size(), ex.getMessage());
		}
	}

	/** Stop: the writes waiting get {@value #DRAIN_SECONDS} s. */
	void close() {
		this.writer.shutdown();
	}

	private static ThreadPoolTaskExecutor writer() {
		ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
		executor.setCorePoolSize(1);
		executor.setMaxPoolSize(1);
		executor.setThreadNamePrefix("rk-idempotency-done-");
		executor.setDaemon(true);
		executor.setWaitForTasksToCompleteOnShutdown(true);
		executor.setAwaitTerminationSeconds(DRAIN_SECONDS);
		executor.initialize();
		return executor;
	}

}
