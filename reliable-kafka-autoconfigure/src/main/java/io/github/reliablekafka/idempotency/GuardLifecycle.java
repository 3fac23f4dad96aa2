package io.github.reliablekafka.idempotency;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * Stops the guard's background work in the lifecycle's stop phase: after the listener containers (which queue the
 * two-tier guard's {@code DONE} writes while they stop) and before the Redis connection factory (phase 0), which
 * closes its connections in the same phase, long before any bean is destroyed. The writes still waiting then reach
 * Redis.
 */
final class GuardLifecycle implements SmartLifecycle {

	/** After the listener containers ({@code Integer.MAX_VALUE - 100}), before the Redis connection factory (0). */
	static final int PHASE = Integer.MAX_VALUE - 1_000;

	private static final Logger logger = LoggerFactory.getLogger(GuardLifecycle.class);

	private final ReliableIdempotency idempotency;

	private volatile boolean running;

	GuardLifecycle(ReliableIdempotency idempotency) {
		this.idempotency = idempotency;
	}

	@Override
	public void start() {
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
		try {
			this.idempotency.close();
		}
		catch (Exception ex) {
			logger.warn("The idempotency guard's background work did not stop cleanly: {}", ex.toString());
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

}
