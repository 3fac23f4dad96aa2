package io.github.reliablekafka.producer;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.internal.MessageIds;
import io.github.reliablekafka.internal.RetryBackoff;
import io.github.reliablekafka.support.PayloadCodec;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.support.SendResult;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.util.Assert;

/**
 * Sends straight to Kafka: validates and encodes, bounds what is in flight, hands records to an
 * {@link OrderedSender} and reports every outcome once.
 */
final class DirectReliableKafkaTemplate implements ReliableKafkaTemplate, DisposableBean, OrderedSender.Outcomes {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaTemplate.class);

	private static final int RESENDERS = 4;

	private final ReliableRecords records;

	private final RetryBackoff retry;

	private final Duration sendTimeout;

	private final int maxInFlight;

	private final Duration maxBlock;

	private final SendOutcomeListener listener;

	private final List<AutoCloseable> closeables;

	private final Semaphore permits;

	/**
	 * Where outcomes are processed: never on the Kafka client's I/O thread, which must stay free while a sender
	 * waits for buffer space or metadata; one thread, so that a key's outcomes are handled in the order they came.
	 */
	private final ThreadPoolTaskExecutor outcomeExecutor;

	/** Waits out the retries' back-off. */
	private final ThreadPoolTaskScheduler retryScheduler;

	private final ThreadPoolTaskExecutor resender;

	private final OrderedSender sender;

	private final @Nullable DelayedDelivery delayedDelivery;

	private volatile boolean closed;

	DirectReliableKafkaTemplate(KafkaOperations<String, byte[]> kafka, PayloadCodec codec, RetryBackoff retry,
			Duration sendTimeout, int maxInFlight, Duration maxBlock, int maxRequestSize,
			SendOutcomeListener listener, List<AutoCloseable> closeables, @Nullable DelayedDelivery delayedDelivery) {
		this.delayedDelivery = delayedDelivery;
		this.records = new ReliableRecords(codec, maxRequestSize, false);
		this.retry = retry;
		this.sendTimeout = sendTimeout;
		this.maxInFlight = maxInFlight;
		this.maxBlock = maxBlock;
		this.listener = listener;
		this.closeables = closeables;
		this.permits = new Semaphore(maxInFlight);
		this.outcomeExecutor = threads("rk-producer-outcome-", 1, sendTimeout);
		this.resender = threads("rk-producer-resend-", RESENDERS, sendTimeout);
		this.retryScheduler = new ThreadPoolTaskScheduler();
		this.retryScheduler.setThreadNamePrefix("rk-producer-retry-");
		this.retryScheduler.setDaemon(true);
		this.retryScheduler.initialize();
		// the pool's own executor, handed one task per burst of outcomes: no task or decoration per outcome
		Executor outcomes = new OutcomeThread(this.outcomeExecutor.getThreadPoolExecutor());
		this.sender = new OrderedSender(kafka, retry, this, outcomes, this.retryScheduler.getScheduledExecutor(),
				this.resender.getThreadPoolExecutor());
	}

	@Override
	public SendFuture send(String topic, @Nullable String key, @Nullable Object payload) {
		return submit(prepare(topic, key, payload)).future;
	}

	@Override
	public SendResult<String, byte[]> sendAndWait(String topic, @Nullable String key, @Nullable Object payload) {
		PendingSend send = submit(prepare(topic, key, payload));
		try {
			return send.future.get(this.sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (TimeoutException ex) {
			throw new ReliableSendException("Send of rk-id=" + send.messageId + " to topic " + topic
					+ " was not confirmed within " + this.sendTimeout.toMillis()
					+ " ms (reliable.kafka.producer.send-timeout); it goes on in the background and its outcome is logged",
					send.messageId, topic, key, send.attempts, null);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new ReliableSendException("Interrupted while waiting for the send of rk-id=" + send.messageId
					+ "; it goes on in the background and its outcome is logged", send.messageId, topic, key,
					send.attempts, ex);
		}
		catch (ExecutionException ex) {
			Throwable cause = ex.getCause();
			if (cause instanceof ReliableSendException failed) {
				// rethrown with this thread's stack, the original as cause
				throw new ReliableSendException(failed.getMessage(), failed.getMessageId(), failed.getTopic(),
						failed.getKey(), failed.getAttempts(), failed);
			}
			throw new ReliableSendException("Send of rk-id=" + send.messageId + " failed: " + cause, send.messageId,
					topic, key, send.attempts, cause);
		}
	}

	/**
	 * Send the message to the delay tiers now; the forwarder delivers it to {@code topic} when due. The future
	 * completes once Kafka confirmed the tier record.
	 */
	@Override
	public CompletableFuture<ScheduledMessage> sendDelayed(String topic, @Nullable String key, @Nullable Object payload,
			Duration delay) {
		Assert.isTrue(delay != null && !delay.isNegative(), "delay must not be negative");
		if (this.delayedDelivery == null) {
			throw new UnsupportedOperationException("Delayed delivery needs the transactional outbox (a DataSource with "
					+ "reliable.kafka.outbox.enabled=true) or the delay tiers (reliable.kafka.delay.enabled=true)");
		}
		Assert.state(!this.closed, "ReliableKafkaTemplate is closed");
		String messageId = MessageIds.next();
		ProducerRecord<String, byte[]> record = this.records.create(messageId, topic, key, payload);
		long dueAt = System.currentTimeMillis() + delay.toMillis();
		ProducerRecord<String, byte[]> planned;
		try {
			planned = delay.isZero() ? record : this.delayedDelivery.schedule(record, dueAt);
		}
		catch (IllegalStateException ex) { // the delay topics could not be created: nothing was sent
			return CompletableFuture.failedFuture(new ReliableSendException("Could not schedule rk-id=" + messageId
					+ " for topic " + topic + "; it was not sent: " + ex.getMessage(), messageId, topic, key, 0, ex));
		}
		PendingSend send = submit(new PendingSend(planned, messageId));
		ScheduledMessage scheduled = new ScheduledMessage(messageId, Instant.ofEpochMilli(dueAt));
		return send.future.thenApply((result) -> scheduled);
	}

	/**
	 * Return the number of sends awaiting an outcome.
	 * @return the count, at most {@code maxInFlight}
	 */
	int inFlight() {
		return this.maxInFlight - this.permits.availablePermits();
	}

	String describeLanes() {
		return this.sender.describeLanes();
	}

	private PendingSend prepare(String topic, @Nullable String key, @Nullable Object payload) {
		Assert.state(!this.closed, "ReliableKafkaTemplate is closed");
		String messageId = MessageIds.next();
		return new PendingSend(this.records.create(messageId, topic, key, payload), messageId);
	}

	private PendingSend submit(PendingSend send) {
		if (acquirePermit(send)) {
			this.sender.submit(send);
		}
		return send;
	}

	private boolean acquirePermit(PendingSend send) {
		try {
			if (this.permits.tryAcquire(this.maxBlock.toMillis(), TimeUnit.MILLISECONDS)) {
				return true;
			}
			complete(send, new ReliableSendException("Send of rk-id=" + send.messageId + " to topic "
					+ send.record.topic() + " refused: " + this.maxInFlight
					+ " sends (reliable.kafka.producer.max-in-flight) still awaited an outcome after "
					+ this.maxBlock.toMillis() + " ms (reliable.kafka.producer.max-block); is the broker reachable?",
					send.messageId, send.record.topic(), send.record.key(), 0, null), false);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			complete(send, new ReliableSendException("Interrupted while waiting to send rk-id=" + send.messageId,
					send.messageId, send.record.topic(), send.record.key(), 0, ex), false);
		}
		return false;
	}

	@Override
	public void succeeded(PendingSend send, SendResult<String, byte[]> result, boolean orderBroken) {
		try {
			if (send.maybeWritten && send.attempts > 1) {
				logger.warn("rk-id={} to topic {} was written at {}-{}@{} on attempt {} after an attempt whose outcome was "
						+ "unknown: the topic may hold it twice, under the same rk-id (idempotency guards skip the second)",
						send.messageId, send.record.topic(), result.getRecordMetadata().topic(),
						result.getRecordMetadata().partition(), result.getRecordMetadata().offset(), send.attempts);
			}
			if (orderBroken) {
				this.listener.onOrderBreak(send.record, result.getRecordMetadata());
			}
			this.listener.onSuccess(send.record, result.getRecordMetadata(), send.attempts);
		}
		finally { // whatever a listener throws, the send ends and its slot is free
			this.permits.release();
			send.future.complete(result);
		}
	}

	@Override
	public void retrying(PendingSend send, Throwable cause, Duration retryIn) {
		this.listener.onAttemptFailure(send.record, send.attempts, cause, retryIn);
	}

	@Override
	public void failed(PendingSend send, Throwable cause) {
		String reason = KafkaErrors.isPermanent(cause) ? "a failure no retry can fix"
				: this.closed ? "the template closed before it was confirmed"
						: "no attempt succeeded (reliable.kafka.producer.retry.max-attempts=" + this.retry.maxAttempts()
								+ ")";
		String what = "Send of rk-id=" + send.messageId + " key=" + LogText.of(send.record.key()) + " to topic "
				+ send.record.topic();
		if (send.maybeWritten) {
			complete(send, new ReliableSendInDoubtException(what + " is IN DOUBT after " + send.attempts
					+ " attempt(s), " + reason + ": an attempt failed after the record reached the broker, so it may "
					+ "be on the topic; do not send it again under a new rk-id (look for rk-id=" + send.messageId
					+ "): " + KafkaErrors.describe(cause), send.messageId, send.record.topic(), send.record.key(),
					send.attempts, KafkaErrors.unwrap(cause)), true);
			return;
		}
		complete(send, new ReliableSendException(what + " failed after " + send.attempts + " attempt(s), " + reason
				+ "; it was not written: " + KafkaErrors.describe(cause), send.messageId, send.record.topic(),
				send.record.key(), send.attempts, KafkaErrors.unwrap(cause)), true);
	}

	private void complete(PendingSend send, ReliableSendException failure, boolean holdsPermit) {
		try {
			Throwable cause = (failure.getCause() != null) ? failure.getCause() : failure;
			if (failure instanceof ReliableSendInDoubtException) {
				this.listener.onInDoubt(send.record, send.attempts, cause);
			}
			else {
				this.listener.onFailure(send.record, send.attempts, cause);
			}
		}
		finally { // whatever a listener throws, the send ends and its slot is free
			if (holdsPermit) {
				this.permits.release();
			}
			send.future.completeExceptionally(failure);
		}
	}

	/**
	 * Stop accepting sends, give retries waiting for their back-off one last attempt, wait up to the send timeout
	 * for outcomes, then close the producer. Whatever is still unconfirmed then fails with a clear error; nothing
	 * ends without an outcome.
	 */
	@Override
	public void destroy() {
		this.closed = true;
		this.sender.close();
		long deadline = System.nanoTime() + this.sendTimeout.toNanos();
		while (inFlight() > 0 && System.nanoTime() < deadline) {
			try {
				Thread.sleep(10);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				break;
			}
		}
		if (inFlight() > 0) {
			logger.error("Closing with {} send(s) still unconfirmed after {} ms; the producer closes now and fails them",
					inFlight(), this.sendTimeout.toMillis());
		}
		for (AutoCloseable closeable : this.closeables) {
			try {
				closeable.close();
			}
			catch (Exception ex) {
				logger.warn("Failed to close {}", closeable, ex);
			}
		}
		// each waits for the tasks it was given, up to the send time-out
		this.resender.shutdown();
		this.outcomeExecutor.shutdown();
		this.retryScheduler.shutdown();
		this.sender.abandonAll();
	}

	/** A pool of daemon threads that runs what it was given before it stops, waiting up to {@code drain}. */
	private static ThreadPoolTaskExecutor threads(String prefix, int size, Duration drain) {
		ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
		executor.setCorePoolSize(size);
		executor.setMaxPoolSize(size);
		executor.setThreadNamePrefix(prefix);
		executor.setDaemon(true);
		executor.setWaitForTasksToCompleteOnShutdown(true);
		executor.setAwaitTerminationMillis(drain.toMillis());
		executor.initialize();
		return executor;
	}

}
