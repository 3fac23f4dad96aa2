package io.github.reliablekafka.idempotency;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;

/**
 * Remembers that Redis is unreachable, so that a guard does not pay the client's command timeout on every record
 * of an outage: while Redis is down, one call per second probes it and the others skip it. Logs once when an
 * outage starts and once when it ends.
 */
final class RedisOutage {

	private static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

	private final AtomicBoolean down = new AtomicBoolean();

	private volatile long nextProbe;

	private final Logger logger;

	private final String during;

	/**
	 * @param logger where the outage is logged
	 * @param during what the guard does while Redis is down, for the log
	 */
	RedisOutage(Logger logger, String during) {
		this.logger = logger;
		this.during = during;
	}

	/**
	 * Return whether a call should skip Redis now: it is down and this is not the time to probe it.
	 */
	boolean skip() {
		if (!this.down.get()) {
			return false;
		}
		long now = System.nanoTime();
		long probe = this.nextProbe;
		if (now - probe < 0) {
			return true;
		}
		this.nextProbe = now + PROBE_INTERVAL_NANOS; // this caller probes; the others skip for a while
		return false;
	}

	/** A call reached Redis. */
	void succeeded() {
		if (this.down.compareAndSet(true, false)) {
			this.logger.info("Redis answers again: the idempotency guard uses it again");
		}
	}

	/** A call could not reach Redis. */
	void failed(Exception ex) {
		this.nextProbe = System.nanoTime() + PROBE_INTERVAL_NANOS;
		if (this.down.compareAndSet(false, true)) {
			this.logger.warn("Redis is unreachable: {} until it is back (logged once per outage): {}", this.during,
					ex.getMessage());
		}
	}

	boolean isDown() {
		return this.down.get();
	}

}
