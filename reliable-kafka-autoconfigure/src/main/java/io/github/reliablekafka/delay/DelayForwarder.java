package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import io.github.reliablekafka.support.LogText;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.support.SendResult;

/**
 * Consumes the delay tiers and forwards each record when it is due, on one thread ({@code rk-delay-forwarder}).
 *
 * <p>
 * A tier's records all wait the same time, so they leave a partition in order: while the head of a partition is
 * not due, the forwarder seeks back to it and pauses that partition until then (no busy polling; the consumer keeps
 * polling, so it stays in its group). A due record goes to its {@code rk-target-topic} with its key, value and
 * headers (its {@code rk-id} too), or, when it is still early, to the next tier. Offsets are committed only after
 * Kafka confirmed every forward before them; a forward that fails is tried again a second later from that record
 * on. A crash between a forward and its commit forwards the record again (a duplicate with the same {@code rk-id},
 * which idempotency guards skip), never loses or hastens it. Times are compared with this machine's clock.
 *
 * <p>
 * Records without a readable plan ({@code rk-due-at}, {@code rk-target-topic}) cannot be forwarded: they go to the
 * dead-letter topic {@code <topic-prefix>dlt}, logged at ERROR.
 */
public final class DelayForwarder implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(DelayForwarder.class);

	private static final long MAX_POLL_WAIT_MILLIS = 1_000;

	private static final long RETRY_MILLIS = 1_000;

	private final DelayTiers tiers;

	private final ConsumerFactory<String, byte[]> consumerFactory;

	private final String groupId;

	private final KafkaOperations<String, byte[]> kafka;

	private final Duration sendTimeout;

	private final String deadLetterTopic;

	private final Map<TopicPartition, Long> resumeAt = new HashMap<>();

	private final AtomicLong forwarded = new AtomicLong();

	private final AtomicLong hops = new AtomicLong();

	private volatile boolean running;

	private volatile @Nullable Thread thread;

	private volatile @Nullable Consumer<String, byte[]> consumer;

	/**
	 * Create a forwarder.
	 * @param tiers the tiers to consume
	 * @param consumerFactory creates the consumer (auto-commit off)
	 * @param groupId the consumer group of every forwarder of the tiers
	 * @param kafka sends forwarded records
	 * @param sendTimeout how long to wait for Kafka to confirm a forward
	 * @param deadLetterTopic where records without a readable plan go
	 */
	public DelayForwarder(DelayTiers tiers, ConsumerFactory<String, byte[]> consumerFactory, String groupId,
			KafkaOperations<String, byte[]> kafka, Duration sendTimeout, String deadLetterTopic) {
		this.tiers = tiers;
		this.consumerFactory = consumerFactory;
		this.groupId = groupId;
		this.kafka = kafka;
		this.sendTimeout = sendTimeout;
		this.deadLetterTopic = deadLetterTopic;
	}

	/**
	 * Return how many records reached their target topic (confirmed by Kafka) since start.
	 * @return the count
	 */
	public long forwarded() {
		return this.forwarded.get();
	}

	/**
	 * Return how many records moved on to another tier since start.
	 * @return the count
	 */
	public long hops() {
		return this.hops.get();
	}

	@Override
	public synchronized void start() {
		if (this.running) {
			return;
		}
		this.running = true;
		Thread forwarder = new Thread(this::run, "rk-delay-forwarder");
		this.thread = forwarder;
		forwarder.start();
	}

	@Override
	public synchronized void stop() {
		this.running = false;
		Consumer<String, byte[]> current = this.consumer;
		if (current != null) {
			current.wakeup();
		}
		Thread forwarder = this.thread;
		if (forwarder != null) {
			try {
				forwarder.join(this.sendTimeout.toMillis() + 10_000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		this.thread = null;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Not started with the application: {@link DelayTopics} starts it once the tier topics exist.
	 */
	@Override
	public boolean isAutoStartup() {
		return false;
	}

	@Override
	public int getPhase() {
		// started before and stopped after the listener containers, which may send records into the tiers
		return Integer.MAX_VALUE - 200;
	}

	private void run() {
		while (this.running) {
			try (Consumer<String, byte[]> tierConsumer = this.consumerFactory.createConsumer(this.groupId,
					"rk-delay-forwarder")) {
				this.consumer = tierConsumer;
				tierConsumer.subscribe(this.tiers.topics(), new Rebalance());
				logger.info("Delay forwarder consumes {} in group {}", this.tiers.topics(), this.groupId);
				while (this.running) {
					pollOnce(tierConsumer);
				}
			}
			catch (WakeupException ex) {
				// stopping
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (RuntimeException ex) {
				if (this.running) {
					logger.error("Delay forwarder failed; it starts over from the committed offsets in {} ms",
							RETRY_MILLIS, ex);
					sleepQuietly(RETRY_MILLIS);
				}
			}
			finally {
				this.consumer = null;
				this.resumeAt.clear();
			}
		}
	}

	private void pollOnce(Consumer<String, byte[]> tierConsumer) throws InterruptedException {
		long now = System.currentTimeMillis();
		long wait = MAX_POLL_WAIT_MILLIS;
		List<TopicPartition> due = new ArrayList<>();
		for (Map.Entry<TopicPartition, Long> entry : this.resumeAt.entrySet()) {
			if (entry.getValue() <= now) {
				due.add(entry.getKey());
			}
			else {
				wait = Math.min(wait, entry.getValue() - now);
			}
		}
		if (!due.isEmpty()) {
			due.forEach(this.resumeAt::remove);
			tierConsumer.resume(due);
		}
		ConsumerRecords<String, byte[]> records = tierConsumer.poll(Duration.ofMillis(wait));
		if (!records.isEmpty()) {
			forward(tierConsumer, records);
		}
	}

	private void forward(Consumer<String, byte[]> tierConsumer, ConsumerRecords<String, byte[]> records)
			throws InterruptedException {
		long now = System.currentTimeMillis();
		Map<TopicPartition, List<Forward>> sends = new HashMap<>();
		for (TopicPartition partition : records.partitions()) {
			List<Forward> partitionSends = new ArrayList<>();
			for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
				ProducerRecord<String, byte[]> next = next(record, now);
				if (next == null) {
					hold(tierConsumer, partition, record);
					break;
				}
				partitionSends.add(new Forward(record, next, this.kafka.send(next)));
			}
			sends.put(partition, partitionSends);
		}
		Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
		for (Map.Entry<TopicPartition, List<Forward>> entry : sends.entrySet()) {
			for (Forward forward : entry.getValue()) {
				Throwable failure = await(forward.result);
				if (failure != null) {
					logger.warn("Delay forwarder could not send {}-{}@{} (rk-id={}) to {}; it tries again from there in "
							+ "{} ms: {}", forward.record.topic(), forward.record.partition(), forward.record.offset(),
							LogText.of(RkHeaders.id(forward.record.headers())), forward.next.topic(), RETRY_MILLIS,
							failure.toString());
					tierConsumer.seek(entry.getKey(), forward.record.offset());
					tierConsumer.pause(List.of(entry.getKey()));
					this.resumeAt.put(entry.getKey(), System.currentTimeMillis() + RETRY_MILLIS);
					break;
				}
				commits.put(entry.getKey(), new OffsetAndMetadata(forward.record.offset() + 1));
				if (forward.next.topic().equals(RkHeaders.text(forward.record.headers(), RkHeaders.TARGET_TOPIC))) {
					this.forwarded.incrementAndGet();
				}
				else if (!forward.next.topic().equals(this.deadLetterTopic)) {
					this.hops.incrementAndGet();
				}
			}
		}
		if (!commits.isEmpty()) {
			tierConsumer.commitSync(commits);
		}
	}

	/**
	 * Where a record goes now: its target when due, the next tier when it left its tier early, the dead-letter topic
	 * when it has no readable plan; {@code null} while it has to stay in its tier.
	 */
	private @Nullable ProducerRecord<String, byte[]> next(ConsumerRecord<String, byte[]> record, long now) {
		String target = RkHeaders.text(record.headers(), RkHeaders.TARGET_TOPIC);
		String dueText = RkHeaders.text(record.headers(), RkHeaders.DUE_AT);
		long dueAt;
		try {
			dueAt = (dueText != null) ? Long.parseLong(dueText.trim()) : -1;
		}
		catch (NumberFormatException ex) {
			dueAt = -1;
		}
		if (target == null || target.isBlank() || dueAt < 0) {
			logger.error("Delay topic record {}-{}@{} (rk-id={}) has no readable {} / {} header; it goes to {}",
					record.topic(), record.partition(), record.offset(), LogText.of(RkHeaders.id(record.headers())),
					RkHeaders.TARGET_TOPIC, RkHeaders.DUE_AT, this.deadLetterTopic);
			return new ProducerRecord<>(this.deadLetterTopic, null, record.key(), record.value(),
					new RecordHeaders(record.headers().toArray()));
		}
		long tier = this.tiers.tierOf(record.topic());
		long leavesAt = DelayTiers.leavesAt(Math.max(tier, 0), record.timestamp(), dueAt);
		if (leavesAt > now) {
			return null;
		}
		if (dueAt <= now) {
			return new ProducerRecord<>(target, null, record.key(), record.value(),
					new RecordHeaders(record.headers().toArray()));
		}
		return this.tiers.hop(target, record.key(), record.value(), record.headers(), dueAt, now);
	}

	private void hold(Consumer<String, byte[]> tierConsumer, TopicPartition partition,
			ConsumerRecord<String, byte[]> head) {
		long dueAt = Long.parseLong(RkHeaders.text(head.headers(), RkHeaders.DUE_AT).trim());
		long leavesAt = DelayTiers.leavesAt(Math.max(this.tiers.tierOf(head.topic()), 0), head.timestamp(), dueAt);
		tierConsumer.seek(partition, head.offset());
		tierConsumer.pause(List.of(partition));
		this.resumeAt.put(partition, leavesAt);
	}

	private @Nullable Throwable await(CompletableFuture<SendResult<String, byte[]>> result)
			throws InterruptedException {
		try {
			result.get(this.sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
			return null;
		}
		catch (ExecutionException ex) {
			return ex.getCause();
		}
		catch (TimeoutException ex) {
			return ex;
		}
	}

	private static void sleepQuietly(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private record Forward(ConsumerRecord<String, byte[]> record, ProducerRecord<String, byte[]> next,
			CompletableFuture<SendResult<String, byte[]>> result) {
	}

	/** Partitions leave with nothing pending (commits are synchronous); their pause plans go with them. */
	private final class Rebalance implements ConsumerRebalanceListener {

		@Override
		public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
			partitions.forEach(DelayForwarder.this.resumeAt::remove);
		}

		@Override
		public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
			Set<TopicPartition> paused = Set.copyOf(partitions);
			DelayForwarder.this.resumeAt.keySet().removeIf(paused::contains);
		}

	}

}
