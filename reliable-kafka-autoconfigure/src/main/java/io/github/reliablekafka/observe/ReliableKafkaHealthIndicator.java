package io.github.reliablekafka.observe;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.idempotency.IdempotencyGuard.StoreProbe;
import io.github.reliablekafka.outbox.OutboxOperations;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The library's health: the outbox's oldest pending row, the idempotency stores, and the consumer lag.
 * <ul>
 * <li>An outbox row pending longer than a threshold gives a configurable status ({@code OUT_OF_SERVICE} by default);
 * an unreachable outbox database gives {@code DOWN}.</li>
 * <li>An unreachable store the guard cannot decide without gives {@code DOWN}; Redis down under the two-tier guard,
 * which falls back to the ledger, is shown but keeps the status.</li>
 * <li>A partition lag above a threshold gives a configurable status ({@code OUT_OF_SERVICE} by default).</li>
 * </ul>
 * The worst of these wins.
 */
public final class ReliableKafkaHealthIndicator implements HealthIndicator {

	private final @Nullable OutboxOperations outbox;

	private final Duration outboxAgeThreshold;

	private final Status outboxAgeStatus;

	private final @Nullable IdempotencyGuard guard;

	private final @Nullable ConsumerLagMonitor lag;

	private final long lagThreshold;

	private final Status lagStatus;

	/**
	 * Create the indicator.
	 * @param outbox the outbox, or {@code null}
	 * @param outboxAgeThreshold how long a row may be pending
	 * @param outboxAgeStatus the status beyond it
	 * @param guard the idempotency guard, or {@code null}
	 * @param lag the lag monitor, or {@code null}
	 * @param lagThreshold the largest acceptable lag of a partition
	 * @param lagStatus the status beyond it
	 */
	public ReliableKafkaHealthIndicator(@Nullable OutboxOperations outbox, Duration outboxAgeThreshold,
			Status outboxAgeStatus, @Nullable IdempotencyGuard guard, @Nullable ConsumerLagMonitor lag, long lagThreshold,
			Status lagStatus) {
		this.outbox = outbox;
		this.outboxAgeThreshold = outboxAgeThreshold;
		this.outboxAgeStatus = outboxAgeStatus;
		this.guard = guard;
		this.lag = lag;
		this.lagThreshold = lagThreshold;
		this.lagStatus = lagStatus;
	}

	@Override
	public Health health() {
		Status status = Status.UP;
		Map<String, Object> details = new LinkedHashMap<>();
		if (this.outbox != null) {
			Map<String, Object> outboxDetails = new LinkedHashMap<>();
			try {
				Duration age = this.outbox.oldestPendingAge();
				outboxDetails.put("pending", this.outbox.pendingCount());
				outboxDetails.put("oldestPendingAge", age.toString());
				outboxDetails.put("threshold", this.outboxAgeThreshold.toString());
				if (age.compareTo(this.outboxAgeThreshold) > 0) {
					status = worse(status, this.outboxAgeStatus);
				}
			}
			catch (RuntimeException ex) {
				outboxDetails.put("error", ex.getClass().getSimpleName() + ": " + ex.getMessage());
				status = worse(status, Status.DOWN);
			}
			details.put("outbox", outboxDetails);
		}
		if (this.guard != null) {
			Map<String, Object> stores = new LinkedHashMap<>();
			List<StoreProbe> probes = this.guard.probe();
			for (StoreProbe probe : probes) {
				stores.put(probe.store(), probe.reachable() ? "reachable"
						: probe.detail() + (probe.essential() ? "" : " (the guard falls back to the ledger)"));
				if (!probe.reachable() && probe.essential()) {
					status = worse(status, Status.DOWN);
				}
			}
			details.put("idempotency", Map.of("store", this.guard.store(), "stores", stores));
		}
		if (this.lag != null) {
			LagSnapshot snapshot = this.lag.snapshot();
			Map<String, Object> lagDetails = new LinkedHashMap<>();
			lagDetails.put("maxLag", snapshot.maxLag());
			lagDetails.put("threshold", this.lagThreshold);
			lagDetails.put("measuredAt", snapshot.at().toString());
			if (!snapshot.warnings().isEmpty()) {
				lagDetails.put("warnings", snapshot.warnings());
			}
			if (snapshot.maxLag() > this.lagThreshold) {
				status = worse(status, this.lagStatus);
			}
			details.put("lag", lagDetails);
		}
		return Health.status(status).withDetails(details).build();
	}

	private static Status worse(Status current, Status candidate) {
		return (severity(candidate) > severity(current)) ? candidate : current;
	}

	private static int severity(Status status) {
		if (Status.DOWN.equals(status)) {
			return 3;
		}
		if (Status.OUT_OF_SERVICE.equals(status)) {
			return 2;
		}
		return Status.UP.equals(status) ? 0 : 1;
	}

}
