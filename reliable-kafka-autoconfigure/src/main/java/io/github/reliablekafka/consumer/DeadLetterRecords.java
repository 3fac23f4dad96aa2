package io.github.reliablekafka.consumer;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;

import io.github.reliablekafka.idempotency.DeadLetterRecord;
import io.github.reliablekafka.idempotency.IdempotencyGuard;
import io.github.reliablekafka.internal.ThrottledLog;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * Tells the idempotency guard's store of each dead letter published, so that "where is message X?" can answer: off
 * the thread that published it (a slow or unreachable store never holds up a partition), one thread
 * ({@code rk-dead-letter-records-1}) that ends when idle, at most 1,000 records waiting (more are logged and not
 * kept). A record whose {@code rk-id} is missing or not a message id is not kept: there is nothing to look it up by.
 * Closed with its container factory: the records waiting get 2 s.
 */
final class DeadLetterRecords {

	/** Keeps nothing: no guard. */
	static final DeadLetterRecords NONE = new DeadLetterRecords(null);

	private static final Logger logger = LoggerFactory.getLogger(DeadLetterRecords.class);

	private final @Nullable IdempotencyGuard guard;

	private final @Nullable ThreadPoolTaskExecutor executor;

	private final ThrottledLog failures = new ThrottledLog(logger, "Dead letters could not be recorded for look-up "
			+ "(each dead letter itself was published)", Duration.ofMinutes(5));

	DeadLetterRecords(@Nullable IdempotencyGuard guard) {
		this.guard = guard;
		this.executor = (guard != null) ? executor() : null;
	}

	private static ThreadPoolTaskExecutor executor() {
		ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
		executor.setCorePoolSize(1);
		executor.setMaxPoolSize(1);
		executor.setQueueCapacity(1_000);
		executor.setKeepAliveSeconds(30);
		executor.setAllowCoreThreadTimeOut(true);
		executor.setThreadNamePrefix("rk-dead-letter-records-");
		executor.setDaemon(true);
		executor.setWaitForTasksToCompleteOnShutdown(true);
		executor.setAwaitTerminationSeconds(2);
		executor.initialize();
		return executor;
	}

	/** Stop: the records waiting get 2 s to be kept. */
	void close() {
		if (this.executor != null) {
			this.executor.shutdown();
		}
	}

	/**
	 * Record that a group published a dead letter of a record.
	 * @param group the consumer group
	 * @param source the record given up on
	 * @param deadLetter where its dead letter was written
	 * @param reason why (the exception's class and message), {@code null} when unknown
	 */
	void published(String group, ConsumerRecord<?, ?> source, RecordMetadata deadLetter, @Nullable String reason) {
		String id = RkHeaders.id(source.headers());
		if (this.guard == null || this.executor == null || !RkHeaders.isMessageId(id)) {
			return;
		}
		DeadLetterRecord record = new DeadLetterRecord(id.toLowerCase(Locale.ROOT), group,
				DeadLetterRecord.position(source.topic(), source.partition(), source.offset()),
				DeadLetterRecord.position(deadLetter.topic(), deadLetter.partition(), deadLetter.offset()),
				reason, Instant.now());
		IdempotencyGuard store = this.guard;
		try {
			this.executor.execute(() -> {
				try {
					store.deadLettered(record);
					this.failures.succeeded("Dead letters recorded for look-up again");
				}
				catch (RuntimeException ex) {
					this.failures.failed(ex, "not kept: " + record.deadLetter() + " (rk-id=" + record.messageId() + ")");
				}
			});
		}
		catch (RejectedExecutionException full) {
			this.failures.failed("1,000 records wait already", "not kept: " + record.deadLetter() + " (rk-id="
					+ record.messageId() + ")");
		}
	}

}
