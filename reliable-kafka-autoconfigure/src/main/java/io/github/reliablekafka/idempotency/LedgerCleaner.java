package io.github.reliablekafka.idempotency;

import java.time.Duration;
import java.time.Instant;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Deletes ledger rows older than the TTL, every ten minutes, 1,000 rows per statement, on a thread of its own
 * ({@code rk-ledger-cleaner-1}) while the application runs; a sweep running when it stops gets 10 s to finish.
 */
final class LedgerCleaner implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(LedgerCleaner.class);

	private final ConsumedLedger ledger;

	private final Duration ttl;

	private @Nullable ThreadPoolTaskScheduler scheduler;

	/**
	 * Create a cleaner.
	 * @param ledger the ledger
	 * @param ttl how long rows are kept
	 */
	LedgerCleaner(ConsumedLedger ledger, Duration ttl) {
		this.ledger = ledger;
		this.ttl = ttl;
	}

	/**
	 * Delete expired rows now.
	 * @return how many were deleted
	 */
	public int clean() {
		long before = System.currentTimeMillis() - this.ttl.toMillis();
		int total = 0;
		for (int round = 0; round < 100; round++) {
			int deleted = this.ledger.deleteBefore(before, 1_000);
			total += deleted;
			if (deleted < 1_000) {
				break;
			}
		}
		try {
			total += this.ledger.deleteDeadLettersBefore(before);
		}
		catch (RuntimeException noTable) { // a table set up by hand without it: nothing was kept there
			logger.debug("Could not delete expired dead-letter records: {}", noTable.getMessage());
		}
		return total;
	}

	@Override
	public void start() {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.setThreadNamePrefix("rk-ledger-cleaner-");
		scheduler.setWaitForTasksToCompleteOnShutdown(true);
		scheduler.setAwaitTerminationSeconds(10);
		scheduler.initialize();
		this.scheduler = scheduler;
		scheduler.scheduleWithFixedDelay(() -> {
			try {
				clean();
			}
			catch (RuntimeException ex) {
				logger.warn("Could not delete expired idempotency ledger rows: {}", ex.getMessage());
			}
		}, Instant.now().plus(Duration.ofMinutes(1)), Duration.ofMinutes(10));
	}

	@Override
	public void stop() {
		if (this.scheduler != null) {
			this.scheduler.shutdown();
			this.scheduler = null;
		}
	}

	@Override
	public boolean isRunning() {
		return this.scheduler != null;
	}

}
