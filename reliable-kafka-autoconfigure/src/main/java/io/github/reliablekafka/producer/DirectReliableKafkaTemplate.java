package io.github.reliablekafka.producer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.github.reliablekafka.support.KafkaErrors;
import io.github.reliablekafka.support.MessageIds;
import io.github.reliablekafka.support.PayloadCodec;
import io.github.reliablekafka.support.RetryBackoff;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.support.SendResult;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.util.Assert;

/**
 * Sends straight to Kafka, retries with back-off in key order, bounds what is in flight, and reports every
 * outcome once.
 */
final class DirectReliableKafkaTemplate implements ReliableKafkaTemplate, DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaTemplate.class);

	private final KafkaOperations<String, byte[]> kafka;

	private final PayloadCodec codec;

	private final RetryBackoff retry;

	private final Duration sendTimeout;

	private final int maxInFlight;

	private final Duration maxBlock;

	private final int maxRequestSize;

	private final SendOutcomeListener listener;

	private final List<AutoCloseable> closeables;

	private final Semaphore permits;

	private final Map<LaneKey, KeyLane> lanes = new ConcurrentHashMap<>();

	private final ScheduledExecutorService retryScheduler;

	/**
	 * Where outcomes are processed: never on the Kafka client's I/O thread, which must stay free while a sender
	 * holds a lane and waits for buffer space or metadata.
	 */
	private final ExecutorService outcomeExecutor;

	private final Executor outcomes;

	private volatile boolean closed;

	DirectReliableKafkaTemplate(KafkaOperations<String, byte[]> kafka, PayloadCodec codec, RetryBackoff retry,
			Duration sendTimeout, int maxInFlight, Duration maxBlock, int maxRequestSize,
			SendOutcomeListener listener, List<AutoCloseable> closeables) {
		this.kafka = kafka;
		this.codec = codec;
		this.retry = retry;
		this.sendTimeout = sendTimeout;
		this.maxInFlight = maxInFlight;
		this.maxBlock = maxBlock;
		this.maxRequestSize = maxRequestSize;
		this.listener = listener;
		this.closeables = closeables;
		this.permits = new Semaphore(maxInFlight);
		this.retryScheduler = Executors.newSingleThreadScheduledExecutor(new CustomizableThreadFactory("rk-producer-retry-"));
		this.outcomeExecutor = Executors.newSingleThreadExecutor(new CustomizableThreadFactory("rk-producer-outcome-"));
		this.outcomes = (task) -> {
			try {
				this.outcomeExecutor.execute(task);
			}
			catch (RejectedExecutionException ex) {
				task.run(); // closed: outcomes still get processed, on the caller's thread
			}
		};
	}

	@Override
	public CompletableFuture<SendResult<String, byte[]>> send(String topic, @Nullable String key,
			@Nullable Object payload) {
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
	 * Return the number of sends awaiting an outcome.
	 * @return the count, at most {@code maxInFlight}
	 */
	int inFlight() {
		return this.maxInFlight - this.permits.availablePermits();
	}

	private PendingSend prepare(String topic, @Nullable String key, @Nullable Object payload) {
		Assert.isTrue(topic != null && !topic.isBlank(), "topic must not be blank");
		Assert.state(!this.closed, "ReliableKafkaTemplate is closed");
		byte[] value = this.codec.encode(payload);
		String messageId = MessageIds.next();
		RecordHeaders headers = new RecordHeaders();
		RkHeaders.set(headers, RkHeaders.ID, messageId);
		RkHeaders.set(headers, RkHeaders.CREATED_AT, Long.toString(System.currentTimeMillis()));
		ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, null, key, value, headers);
		checkSize(record);
		return new PendingSend(record, messageId);
	}

	private void checkSize(ProducerRecord<String, byte[]> record) {
		byte[] keyBytes = (record.key() != null) ? record.key().getBytes(StandardCharsets.UTF_8) : null;
		int size = AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
				keyBytes, record.value(), record.headers().toArray());
		if (size > this.maxRequestSize) {
			throw new IllegalArgumentException("Record for topic " + record.topic() + " key " + record.key() + " is "
					+ size + " bytes, more than max.request.size=" + this.maxRequestSize + "; nothing was sent");
		}
	}

	private PendingSend submit(PendingSend send) {
		if (!acquirePermit(send)) {
			return send;
		}
		KeyLane lane = laneFor(send);
		synchronized (lane) {
			send.sequence = lane.nextSequence();
			if (lane.recovering) {
				lane.enqueue(send);
			}
			else {
				lane.inFlight++;
				attempt(lane, send);
			}
		}
		return send;
	}

	private boolean acquirePermit(PendingSend send) {
		try {
			if (this.permits.tryAcquire(this.maxBlock.toMillis(), TimeUnit.MILLISECONDS)) {
				return true;
			}
			fail(send, new ReliableSendException("Send of rk-id=" + send.messageId + " to topic "
					+ send.record.topic() + " refused: " + this.maxInFlight
					+ " sends (reliable.kafka.producer.max-in-flight) still awaited an outcome after "
					+ this.maxBlock.toMillis() + " ms (reliable.kafka.producer.max-block); is the broker reachable?",
					send.messageId, send.record.topic(), send.record.key(), 0, null), false);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			fail(send, new ReliableSendException("Interrupted while waiting to send rk-id=" + send.messageId,
					send.messageId, send.record.topic(), send.record.key(), 0, ex), false);
		}
		return false;
	}

	private KeyLane laneFor(PendingSend send) {
		if (send.record.key() == null) {
			return new KeyLane(); // no key, no order to keep: a lane of its own
		}
		LaneKey laneKey = new LaneKey(send.record.topic(), send.record.key());
		while (true) {
			KeyLane lane = this.lanes.computeIfAbsent(laneKey, (k) -> new KeyLane());
			synchronized (lane) {
				if (!lane.retired) {
					return lane;
				}
			}
		}
	}

	/**
	 * Hand one record to the client. Called with the lane's monitor held, so a key's records go out in order; the
	 * outcome is processed on the outcome thread, never on the client's I/O thread.
	 */
	private void attempt(KeyLane lane, PendingSend send) {
		send.attempts++;
		CompletableFuture<SendResult<String, byte[]>> sent;
		try {
			sent = this.kafka.send(send.record);
		}
		catch (RuntimeException ex) {
			sent = CompletableFuture.failedFuture(ex);
		}
		sent.whenCompleteAsync((result, failure) -> completed(lane, send, result, failure), this.outcomes);
	}

	private void completed(KeyLane lane, PendingSend send, @Nullable SendResult<String, byte[]> result,
			@Nullable Throwable failure) {
		boolean orderBroken = false;
		boolean retrying = false;
		Duration nextRound = Duration.ZERO;
		synchronized (lane) {
			lane.inFlight--;
			if (failure == null) {
				orderBroken = lane.recovering && !send.inRetryRound && send.sequence > lane.firstFailedSequence;
			}
			else if (!this.closed && !KafkaErrors.isPermanent(failure) && this.retry.canRetry(send.attempts)) {
				retrying = true;
				send.lastFailure = failure;
				lane.recovering = true;
				lane.firstFailedSequence = Math.min(lane.firstFailedSequence, send.sequence);
				lane.enqueue(send);
			}
			if (lane.recovering && lane.inFlight == 0 && !lane.roundScheduled) {
				if (lane.hasWaiting()) {
					int failedAttempts = lane.maxFailedAttempts();
					nextRound = (failedAttempts > 0) ? this.retry.delayAfter(failedAttempts) : Duration.ZERO;
					lane.roundScheduled = true;
					scheduleRound(lane, nextRound);
				}
				else {
					lane.recovering = false;
					lane.firstFailedSequence = Long.MAX_VALUE;
				}
			}
			retireIfIdle(lane, send);
		}
		if (failure == null) {
			RecordMetadata metadata = Objects.requireNonNull(result).getRecordMetadata();
			if (orderBroken) {
				this.listener.onOrderBreak(send.record, metadata);
			}
			this.listener.onSuccess(send.record, metadata, send.attempts);
			this.permits.release();
			send.future.complete(result);
		}
		else if (retrying) {
			this.listener.onAttemptFailure(send.record, send.attempts, KafkaErrors.unwrap(failure),
					this.retry.delayAfter(send.attempts));
		}
		else {
			fail(send, finalFailure(send, failure), true);
		}
	}

	private ReliableSendException finalFailure(PendingSend send, Throwable failure) {
		String reason = KafkaErrors.isPermanent(failure) ? "a failure no retry can fix"
				: this.closed ? "the template closed before it was confirmed"
						: "no attempt succeeded (reliable.kafka.producer.retry.max-attempts=" + this.retry.maxAttempts()
								+ ")";
		return new ReliableSendException("Send of rk-id=" + send.messageId + " key=" + send.record.key()
				+ " to topic " + send.record.topic() + " failed after " + send.attempts + " attempt(s), " + reason
				+ ": " + KafkaErrors.describe(failure), send.messageId, send.record.topic(), send.record.key(),
				send.attempts, KafkaErrors.unwrap(failure));
	}

	private void fail(PendingSend send, ReliableSendException failure, boolean holdsPermit) {
		this.listener.onFailure(send.record, send.attempts, failure.getCause() != null ? failure.getCause() : failure);
		if (holdsPermit) {
			this.permits.release();
		}
		send.future.completeExceptionally(failure);
	}

	private void scheduleRound(KeyLane lane, Duration delay) {
		try {
			this.retryScheduler.schedule(() -> runRound(lane), delay.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (RuntimeException ex) {
			// scheduler shut down: the template is closing, run the round now so every send reaches an outcome
			runRound(lane);
		}
	}

	private void runRound(KeyLane lane) {
		synchronized (lane) {
			lane.roundScheduled = false;
			List<PendingSend> round = lane.drainInOrder();
			lane.inFlight += round.size();
			for (PendingSend send : round) {
				send.inRetryRound = true;
				attempt(lane, send);
			}
		}
	}

	private void retireIfIdle(KeyLane lane, PendingSend send) {
		if (lane.isIdle() && send.record.key() != null) {
			lane.retired = true;
			this.lanes.remove(new LaneKey(send.record.topic(), send.record.key()), lane);
		}
	}

	/**
	 * Stop accepting sends, give the ones in flight up to the send timeout to reach an outcome (retries waiting for
	 * their back-off run at once), then close the producer. Whatever is still unconfirmed then fails with a clear
	 * error; nothing ends without an outcome.
	 */
	@Override
	public void destroy() {
		this.closed = true;
		List<KeyLane> waiting = new ArrayList<>(this.lanes.values());
		this.retryScheduler.shutdownNow();
		for (KeyLane lane : waiting) {
			synchronized (lane) {
				if (lane.roundScheduled) {
					runRound(lane);
				}
			}
		}
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
		this.outcomeExecutor.shutdown();
		try {
			if (!this.outcomeExecutor.awaitTermination(this.sendTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
				logger.error("{} send outcome(s) not processed before close", inFlight());
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private record LaneKey(String topic, String key) {
	}

}
