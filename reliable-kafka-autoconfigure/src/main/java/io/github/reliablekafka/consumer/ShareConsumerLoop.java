package io.github.reliablekafka.consumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.core.ShareConsumerFactory;
import org.springframework.kafka.support.KafkaUtils;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * One share consumer of a reliable share-group listener and its one worker thread. The consumer thread polls and
 * acknowledges; the worker runs each record's {@link ShareRecordHandler} (the listener, its back-off, its dead
 * letter), one at a time. While a record runs longer than half the acquisition lock, the consumer thread renews its
 * lock ({@code RENEW}) on each poll, so that long work, back-off waits and waits for the idempotency guard never let
 * the lock run out. The consumer is only ever touched by its own thread.
 *
 * <p>
 * When the listener stops, records not yet started are released, waits end with a release, and a listener method
 * still running is given the container's shutdown time-out (its lock renewed) before the consumer closes, which
 * releases whatever is left.
 */
final class ShareConsumerLoop implements Runnable {

	private static final Logger logger = LoggerFactory.getLogger(ReliableListener.class);

	private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);

	/** How often to renew a running record's lock when the broker names no lock time-out (its default is 30 s). */
	private static final long DEFAULT_RENEW_MILLIS = 10_000;

	private static final long ERROR_BACKOFF_MILLIS = 1_000;

	private final String listener;

	private final ShareConsumerFactory<String, byte[]> factory;

	private final String group;

	private final String clientId;

	private final List<String> topics;

	private final ShareRecordHandler handler;

	private final int deliveryLimit;

	private final long shutdownTimeoutMillis;

	private final ThreadPoolTaskExecutor worker;

	private final CountDownLatch started = new CountDownLatch(1);

	/** How many accepted offsets the loop remembers, to accept a late copy of one without running it again. */
	private static final int ACCEPTED_REMEMBERED = 10_000;

	/**
	 * The offsets this consumer accepted last, oldest first: consumer thread only. The client can hand out copies of
	 * a record it fetched again while another record held the consumer; a copy of an accepted offset is accepted
	 * again, not run again.
	 */
	private final Map<Delivery, Boolean> accepted = new LinkedHashMap<>(256, 0.75f, false) {

		@Override
		protected boolean removeEldestEntry(Map.Entry<Delivery, Boolean> eldest) {
			return size() > ACCEPTED_REMEMBERED;
		}

	};

	/** The records handed to the worker and not yet acknowledged: consumer thread only. */
	private final Map<Delivery, Running> inProgress = new HashMap<>();

	private volatile boolean running = true;

	private volatile ShareConsumer<String, byte[]> consumer;

	private final java.util.function.IntConsumer onLock;

	private boolean lockReported;

	ShareConsumerLoop(String listener, ShareConsumerFactory<String, byte[]> factory, String group, String clientId,
			List<String> topics, ShareRecordHandler handler, int deliveryLimit, long shutdownTimeoutMillis,
			java.util.function.IntConsumer onLock) {
		this.onLock = onLock;
		this.listener = listener;
		this.factory = factory;
		this.group = group;
		this.clientId = clientId;
		this.topics = topics;
		this.handler = handler;
		this.deliveryLimit = deliveryLimit;
		this.shutdownTimeoutMillis = shutdownTimeoutMillis;
		this.worker = new ThreadPoolTaskExecutor();
		this.worker.setCorePoolSize(1);
		this.worker.setMaxPoolSize(1);
		this.worker.setThreadNamePrefix(threadName(listener, clientId) + "-worker-");
		this.worker.setDaemon(true);
		this.worker.initialize();
	}

	@Override
	public void run() {
		try (ShareConsumer<String, byte[]> created = this.factory.createShareConsumer(this.group, this.clientId,
				Map.of(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit"))) {
			this.consumer = created;
			created.setAcknowledgementCommitCallback((offsets, exception) -> {
				if (exception != null) {
					logger.warn("Listener '{}': the broker did not take acknowledgements {}: {}; those records are "
							+ "delivered again (the idempotency guard keeps their effects single)", this.listener,
							offsets, KafkaErrors.describe(exception));
				}
			});
			created.subscribe(this.topics);
			this.started.countDown();
			loop(created);
		}
		catch (RuntimeException ex) {
			logger.error("Share consumer {} of listener '{}' stopped: {}", this.clientId, this.listener,
					KafkaErrors.describe(ex), ex);
		}
		finally {
			this.started.countDown();
			this.worker.getThreadPoolExecutor().shutdownNow();
		}
	}

	private void loop(ShareConsumer<String, byte[]> consumer) {
		long stopDeadline = Long.MAX_VALUE;
		while (this.running || (!this.inProgress.isEmpty() && System.nanoTime() < stopDeadline)) {
			if (!this.running && stopDeadline == Long.MAX_VALUE) {
				stopDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(this.shutdownTimeoutMillis);
			}
			ConsumerRecords<String, byte[]> records;
			try {
				records = consumer.poll(POLL_TIMEOUT);
			}
			catch (WakeupException ex) {
				continue; // stop() woke the poll up
			}
			catch (RuntimeException ex) {
				logger.warn("Share consumer {} of listener '{}' could not poll: {}", this.clientId, this.listener,
						KafkaErrors.describe(ex));
				pause(ERROR_BACKOFF_MILLIS);
				continue;
			}
			if (!this.lockReported && !records.isEmpty()) {
				this.lockReported = true;
				this.onLock.accept(consumer.acquisitionLockTimeoutMs().orElse(-1));
			}
			long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(renewMillis(consumer));
			// a poll can return one offset more than once (the client fetched it again after its lock ran out while
			// another record held the consumer): run the newest delivery once, acknowledge every copy alike
			Map<Delivery, List<ConsumerRecord<String, byte[]>>> copies = new LinkedHashMap<>();
			for (ConsumerRecord<String, byte[]> record : records) {
				copies.computeIfAbsent(Delivery.of(record), (delivery) -> new ArrayList<>(1)).add(record);
			}
			int left = copies.size();
			for (Map.Entry<Delivery, List<ConsumerRecord<String, byte[]>>> entry : copies.entrySet()) {
				left--;
				AcknowledgeType outcome = outcomeBy(entry.getKey(), newest(entry.getValue()), deadline);
				acknowledge(consumer, entry.getValue(), (outcome != null) ? outcome : AcknowledgeType.RENEW);
				if (outcome != null && left > 0) {
					consumer.commitAsync(); // a crash later in this batch must not undo this record's outcome
				}
			}
			forgetLost(TimeUnit.MILLISECONDS.toNanos(3 * renewMillis(consumer)));
		}
	}

	/** The copy of a record with the highest delivery count: the live one. */
	private static ConsumerRecord<String, byte[]> newest(List<ConsumerRecord<String, byte[]>> copies) {
		ConsumerRecord<String, byte[]> newest = copies.get(0);
		for (ConsumerRecord<String, byte[]> copy : copies) {
			if (ShareRecordHandler.deliveryOf(copy) > ShareRecordHandler.deliveryOf(newest)) {
				newest = copy;
			}
		}
		return newest;
	}

	/** Acknowledge every copy of a record in the batch alike. */
	private static void acknowledge(ShareConsumer<String, byte[]> consumer, List<ConsumerRecord<String, byte[]>> copies,
			AcknowledgeType outcome) {
		for (ConsumerRecord<String, byte[]> copy : copies) {
			try {
				consumer.acknowledge(copy, outcome);
			}
			catch (IllegalStateException ex) {
				// the client took the offset's acknowledgement with an earlier copy
			}
		}
	}

	/**
	 * The outcome of a record, waiting for it until the deadline; {@code null} when it still runs.
	 */
	private AcknowledgeType outcomeBy(Delivery delivery, ConsumerRecord<String, byte[]> record, long deadline) {
		if (this.accepted.containsKey(delivery)) {
			return AcknowledgeType.ACCEPT; // a late copy of a record this consumer finished
		}
		Running task = this.inProgress.get(delivery);
		if (task == null) {
			if (!this.running) {
				return AcknowledgeType.RELEASE; // not started: another consumer takes it
			}
			task = new Running(submit(record));
			this.inProgress.put(delivery, task);
		}
		task.seenAt = System.nanoTime();
		try {
			AcknowledgeType outcome = task.future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
			this.inProgress.remove(delivery);
			if (outcome == AcknowledgeType.ACCEPT) {
				this.accepted.put(delivery, Boolean.TRUE);
			}
			return outcome;
		}
		catch (TimeoutException ex) {
			return null;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.running = false;
			return null;
		}
		catch (ExecutionException ex) {
			this.inProgress.remove(delivery);
			logger.error("Listener '{}' failed unexpectedly on record {} (rk-id={}); releasing it", this.listener,
					PayloadMessageConverter.position(record), LogText.of(RkHeaders.id(record.headers())), ex.getCause());
			return AcknowledgeType.RELEASE;
		}
	}

	private CompletableFuture<AcknowledgeType> submit(ConsumerRecord<String, byte[]> record) {
		return CompletableFuture.supplyAsync(() -> {
			if (!this.running) {
				return AcknowledgeType.RELEASE; // queued behind a record that ran into the stop
			}
			KafkaUtils.setConsumerGroupId(this.group);
			try {
				return this.handler.handle(record, this.deliveryLimit, () -> this.running);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return AcknowledgeType.RELEASE;
			}
			finally {
				KafkaUtils.clearConsumerGroupId();
			}
		}, this.worker);
	}

	/**
	 * Forget records whose lock the broker did not renew (they were not delivered again for longer than a lock): their
	 * outcome can no longer be acknowledged; the broker delivers them again.
	 */
	private void forgetLost(long lockNanos) {
		long now = System.nanoTime();
		for (Iterator<Map.Entry<Delivery, Running>> it = this.inProgress.entrySet().iterator(); it.hasNext();) {
			Map.Entry<Delivery, Running> entry = it.next();
			if (entry.getValue().future.isDone() && now - entry.getValue().seenAt > lockNanos) {
				it.remove();
				logger.warn("Listener '{}' finished record {} after its acquisition lock was lost; the broker delivers "
						+ "it again (the idempotency guard keeps its effect single)", this.listener, entry.getKey());
			}
		}
	}

	private long renewMillis(ShareConsumer<String, byte[]> consumer) {
		// a third of the lock: a renewed record comes back a poll or two after its renewal is sent
		return consumer.acquisitionLockTimeoutMs().map((lock) -> Math.max(100L, lock / 3)).orElse(DEFAULT_RENEW_MILLIS);
	}

	/**
	 * The name of a share consumer's thread: {@code rk-share-<listener>-<n>}.
	 * @param listener the listener id
	 * @param clientId the consumer's client id, {@code <listener>-share-<n>}
	 * @return the thread name
	 */
	static String threadName(String listener, String clientId) {
		return "rk-share-" + listener + clientId.substring(clientId.lastIndexOf('-'));
	}

	/**
	 * Wait until the consumer subscribed, or failed to.
	 * @param timeout how long to wait
	 * @return whether it subscribed in time
	 */
	boolean awaitStarted(Duration timeout) throws InterruptedException {
		return this.started.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	/** Ask the loop to stop: it releases what it has not started and finishes what runs. */
	void stop() {
		this.running = false;
		ShareConsumer<String, byte[]> current = this.consumer;
		if (current != null) {
			current.wakeup();
		}
	}

	private static void pause(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** A record's place. */
	private record Delivery(String topic, int partition, long offset) {

		static Delivery of(ConsumerRecord<?, ?> record) {
			return new Delivery(record.topic(), record.partition(), record.offset());
		}


		@Override
		public String toString() {
			return this.topic + "-" + this.partition + "@" + this.offset;
		}

	}

	/** A record handed to the worker, and when a poll last returned it. */
	private static final class Running {

		private final CompletableFuture<AcknowledgeType> future;

		private long seenAt = System.nanoTime();

		Running(CompletableFuture<AcknowledgeType> future) {
			this.future = future;
		}

	}

}
