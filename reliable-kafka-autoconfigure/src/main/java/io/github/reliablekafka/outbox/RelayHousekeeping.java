package io.github.reliablekafka.outbox;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The relay's housekeeping, on the relay thread once per poll interval: the time-outs of this instance's futures,
 * the futures of its messages another instance published, and the deletion of confirmed rows after the retention.
 */
final class RelayHousekeeping {

	private static final int RETENTION_BATCH = 1_000;

	/** The longest a retention sweep that found nothing to delete waits for the next. */
	private static final long SWEEP_IDLE_MAX_MILLIS = TimeUnit.MINUTES.toMillis(10);

	private static final long CONFIRMED_ELSEWHERE_INTERVAL_MILLIS = 5_000;

	private static final int CONFIRMED_ELSEWHERE_BATCH = 500;

	private final OutboxStore store;

	private final LocalSends localSends;

	private final OutboxRelaySettings settings;

	private long nextConfirmedElsewhere;

	private long nextRetentionSweep;

	/** Where the retention sweep's walk through the confirmed rows goes on from. */
	private long sweepAfterId;

	/** The earliest confirmation time among the rows the current walk kept. */
	private long walkFirstKept = Long.MAX_VALUE;

	RelayHousekeeping(OutboxStore store, LocalSends localSends, OutboxRelaySettings settings) {
		this.store = store;
		this.localSends = localSends;
		this.settings = settings;
	}

	void run(long now) {
		this.localSends.expire(now);
		confirmPublishedElsewhere(now);
		deleteExpired(now);
	}

	/**
	 * Complete the futures of this instance's messages that another instance published.
	 */
	private void confirmPublishedElsewhere(long now) {
		if (now < this.nextConfirmedElsewhere) {
			return;
		}
		this.nextConfirmedElsewhere = now + CONFIRMED_ELSEWHERE_INTERVAL_MILLIS;
		List<String> waiting = this.localSends.committedBefore(now - 2 * this.settings.pollInterval().toMillis(),
				CONFIRMED_ELSEWHERE_BATCH);
		if (!waiting.isEmpty()) {
			this.store.statuses(waiting).forEach((messageId, status) -> {
				if (status == OutboxStatus.SENT) {
					this.localSends.confirmedElsewhere(messageId);
				}
			});
		}
	}

	/**
	 * Delete confirmed rows older than the retention, a window of ids at a time, walking on from where the last
	 * sweep stopped, so that every confirmed row is reached whatever its id. Once a walk reached the last row, the
	 * next starts when the earliest row it kept expires (at most {@link #SWEEP_IDLE_MAX_MILLIS} later), not one poll
	 * interval later.
	 */
	private void deleteExpired(long now) {
		if (now < this.nextRetentionSweep) {
			return;
		}
		long retention = this.settings.retention().toMillis();
		for (int round = 0; round < 10; round++) {
			OutboxStore.Sweep sweep = this.store.deleteSent(now - retention, this.sweepAfterId, RETENTION_BATCH);
			if (sweep.firstKeptSentAt() != null) {
				this.walkFirstKept = Math.min(this.walkFirstKept, sweep.firstKeptSentAt());
			}
			if (sweep.lastId() == null) { // the walk reached the end: the next one starts from the first id
				long next = (this.walkFirstKept != Long.MAX_VALUE) ? this.walkFirstKept + retention : now + retention;
				this.nextRetentionSweep = Math.min(Math.max(next, now), now + SWEEP_IDLE_MAX_MILLIS);
				this.sweepAfterId = 0;
				this.walkFirstKept = Long.MAX_VALUE;
				return;
			}
			this.sweepAfterId = sweep.lastId();
		}
	}

}
