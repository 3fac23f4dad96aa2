package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.github.reliablekafka.testing.RedisMonitor;
import io.github.reliablekafka.testing.RedisServerProcess;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The two-tier guard's background {@code DONE} writes, against a Redis of the test's own whose commands
 * {@code MONITOR} counts.
 */
class DoneWritesTests {

	/**
	 * Three listener threads finish a record every 200 microseconds each: every key reaches Redis as {@code DONE}
	 * with its TTL, in far fewer round trips than records, since the writer lingers before it writes. (Without the
	 * linger: 308 round trips for 3,000 records, 0.10 each; with it, 48.)
	 */
	@Test
	void doneWritesOfRecordsFinishedTogetherShareARoundTrip() throws Exception {
		int threads = 3;
		int perThread = 1_000;
		try (RedisServerProcess own = RedisServerProcess.start(false)) {
			LettuceConnectionFactory factory = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("localhost", own.port()));
			factory.afterPropertiesSet();
			StringRedisTemplate redis = new StringRedisTemplate(factory);
			DoneWrites writes = new DoneWrites(redis, Duration.ofMinutes(5), () -> false);
			try {
				finish(writes, "warm-up", threads, perThread); // a cold client's first round trips are slow
				await().atMost(Duration.ofSeconds(10)).until(() -> redis.keys("warm-up:*").size() == threads * perThread);
				RedisMonitor monitor = RedisMonitor.start(own.port());
				finish(writes, "done", threads, perThread);
				int count = threads * perThread;
				await().atMost(Duration.ofSeconds(10)).until(() -> redis.keys("done:*").size() == count);
				long notDone = 0;
				long withoutTtl = 0;
				for (int t = 0; t < threads; t++) {
					for (int i = 0; i < perThread; i++) {
						String key = "done:" + t + ":" + i;
						notDone += "DONE".equals(redis.opsForValue().get(key)) ? 0 : 1;
						Long ttl = redis.getExpire(key, TimeUnit.SECONDS);
						withoutTtl += (ttl != null && ttl > 0) ? 0 : 1;
					}
				}
				long scripts = monitor.calls("EVALSHA", "EVAL");
				System.out.printf("DoneWrites: %d records finished on %d threads, one every 200 us each: not DONE=%d, "
						+ "without TTL=%d; round trips=%d (%.3f per record; all commands: %s)%n", count, threads, notDone,
						withoutTtl, scripts, scripts / (double) count, monitor.counts());
				monitor.close(); // (the server it watches stops with the test in any case)
				assertThat(notDone).isZero();
				assertThat(withoutTtl).isZero();
				assertThat(scripts).as("round trips of DONE writes").isLessThanOrEqualTo(count / 25);
			}
			finally {
				writes.close();
				factory.destroy();
			}
		}
	}

	/** Threads that each finish a record every 200 microseconds, and add its key to the writes. */
	private static void finish(DoneWrites writes, String prefix, int threads, int perThread) throws InterruptedException {
		List<Thread> listeners = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			int thread = t;
			Thread listener = new Thread(() -> {
				for (int i = 0; i < perThread; i++) {
					writes.add(prefix + ":" + thread + ":" + i);
					LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
				}
			}, "listener-" + t);
			listener.start();
			listeners.add(listener);
		}
		for (Thread listener : listeners) {
			listener.join();
		}
	}

}
