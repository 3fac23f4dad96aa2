package io.github.reliablekafka.outbox;

import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * The outbox's meters.
 *
 * <ul>
 * <li>{@code reliable.kafka.outbox.pending} (gauge): rows committed and not yet confirmed by Kafka.</li>
 * <li>{@code reliable.kafka.outbox.oldest.age} (gauge, seconds): how long the oldest of them that is due has waited
 * since its due time.</li>
 * <li>{@code reliable.kafka.outbox.published} (counter): rows this instance published and Kafka confirmed.</li>
 * <li>{@code reliable.kafka.outbox.failed} (counter): rows this instance gave up on (status {@code FAILED}).</li>
 * </ul>
 * The gauges query the table at most every 5 seconds, whatever the scrape rate.
 */
public final class OutboxMetrics implements MeterBinder {

	private static final long REFRESH_MILLIS = 5_000;

	private final OutboxOperations operations;

	private final TransactionalOutbox outbox;

	private volatile long refreshedAt;

	private volatile long pending;

	private volatile double oldestSeconds;

	/**
	 * Create the meters.
	 * @param operations the outbox table
	 * @param outbox this instance's outbox, whose relay counts what it published and gave up on
	 */
	public OutboxMetrics(OutboxOperations operations, TransactionalOutbox outbox) {
		this.operations = operations;
		this.outbox = outbox;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("reliable.kafka.outbox.pending", this, (metrics) -> metrics.refresh().pending)
			.description("Outbox rows committed and not yet confirmed by Kafka")
			.register(registry);
		Gauge.builder("reliable.kafka.outbox.oldest.age", this, (metrics) -> metrics.refresh().oldestSeconds)
			.description("How long the oldest unconfirmed outbox row has waited")
			.baseUnit("seconds")
			.register(registry);
		FunctionCounter.builder("reliable.kafka.outbox.published", this.outbox, TransactionalOutbox::publishedCount)
			.description("Outbox rows this instance published and Kafka confirmed")
			.register(registry);
		FunctionCounter.builder("reliable.kafka.outbox.failed", this.outbox, TransactionalOutbox::failedCount)
			.description("Outbox rows this instance gave up on")
			.register(registry);
	}

	private synchronized OutboxMetrics refresh() {
		long now = System.currentTimeMillis();
		if (now - this.refreshedAt >= REFRESH_MILLIS) {
			try {
				this.pending = this.operations.pendingCount();
				this.oldestSeconds = this.operations.oldestPendingAge().toMillis() / (double) TimeUnit.SECONDS.toMillis(1);
			}
			catch (RuntimeException ex) {
				// the database is unreachable: keep the last values
			}
			this.refreshedAt = now;
		}
		return this;
	}

}
