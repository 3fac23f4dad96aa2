package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.LogText;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.support.SendResult;

/**
 * Consumes the delay tiers and forwards each record when it is due, on one thread ({@code rk-delay-forwarder}).
 *
 * <p>
 * A tier's records all wait the same time, so they leave a partition in order: while the head of a partition is
 * not due, the forwarder seeks back to it and pauses that partition until then (no busy polling; the consumer keeps
 * polling, so it stays in its group). A due record goes to its {@code rk-target-topic} with its key, value and
 * headers (its {@code rk-id} too), or, when it is still early, to the next tier. Offsets are committed only after
 * Kafka confirmed every forward before them; a forward that fails is tried again from that record on, after a
 * back-off, without sending the partition's later records twice ({@link ForwarderPartitions}); one Kafka refuses for
 * good goes to the dead-letter topic. A crash between a forward and its commit forwards the record again (a
 * duplicate with the same {@code rk-id}, which idempotency guards skip), never loses or hastens it. Times are compared with this machine's clock.
 *
 * <p>
 * Plans are not trusted: one {@link DelayPlans} refuses (unreadable, a delay topic or a topic outside the allowed
 * ones as target, due too far ahead) goes to the dead-letter topic {@code <topic-prefix>dlt} with the reason, logged at
 * ERROR.
 */
final class DelayForwarder implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(DelayForwarder.class);

	private static final long MAX_POLL_WAIT_MILLIS = 1_000;

	private static final long RETRY_MILLIS = 1_000;

	private final DelayTiers tiers;

	private final ConsumerFactory<String, byte[]> consumerFactory;

	private final String groupId;

	private final DelaySender kafka;

	private final Duration sendTimeout;

	private final String deadLetterTopic;

	private final ForwarderPartitions partitions = new ForwarderPartitions();

	private final DelayPlans plans;

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
	 * @param kafka the tiers' sender, which forwards due records inside the trace context they carry
	 * @param sendTimeout how long to wait for Kafka to confirm a forward
	 * @param deadLetterTopic where records without a readable plan go
	 * @param allowedTargets the topics a plan may name (whole names as regular expressions); empty for any topic
	 * that is not a delay topic
	 * @param maxDelay how far ahead a plan may be due
	 */
	DelayForwarder(DelayTiers tiers, ConsumerFactory<String, byte[]> consumerFactory, String groupId,
			DelaySender kafka, Duration sendTimeout, String deadLetterTopic,
			List<Pattern> allowedTargets, Duration maxDelay) {
		this.plans = new DelayPlans(tiers, deadLetterTopic, allowedTargets, maxDelay);
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
				this.partitions.clear();
			}
		}
	}

	private void pollOnce(Consumer<String, byte[]> tierConsumer) throws InterruptedException {
		long now = System.currentTimeMillis();
		List<TopicPartition> due = this.partitions.takeDue(now);
		if (!due.isEmpty()) {
			tierConsumer.resume(due);
		}
		ConsumerRecords<String, byte[]> records = tierConsumer
			.poll(Duration.ofMillis(this.partitions.pollWait(now, MAX_POLL_WAIT_MILLIS)));
		if (!records.isEmpty()) {
			forward(tierConsumer, records);
		}
	}

	private void forward(Consumer<String, byte[]> tierConsumer, ConsumerRecords<String, byte[]> records)
			throws InterruptedException {
		long now = System.currentTimeMillis();
		Map<TopicPartition, List<Forward>> sends = new HashMap<>();
		Map<TopicPartition, Long> skippedTo = new HashMap<>();
		for (TopicPartition partition : records.partitions()) {
			List<Forward> partitionSends = new ArrayList<>();
			for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
				if (this.partitions.forwardedAhead(partition, record.offset())) {
					// forwarded after an earlier record of the partition failed: never sent twice
					if (partitionSends.isEmpty()) {
						skippedTo.put(partition, record.offset() + 1);
						this.partitions.committed(partition, record.offset());
					}
					else {
						partitionSends.add(new Forward(record, null, CompletableFuture.completedFuture(null)));
					}
					continue;
				}
				DelayPlans.Decision decision = this.plans.decide(record, now);
				if (decision.send() == null) {
					hold(tierConsumer, partition, record, decision.leavesAt());
					break;
				}
				if (decision.refused() != null) {
					logger.error("Delay topic record {}-{}@{} (rk-id={}) is refused: {}; it goes to {}", record.topic(),
							record.partition(), record.offset(), LogText.of(RkHeaders.id(record.headers())),
							decision.refused(), this.deadLetterTopic);
				}
				partitionSends.add(new Forward(record, decision.send(), send(decision.send())));
			}
			sends.put(partition, partitionSends);
		}
		Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
		skippedTo.forEach((partition, offset) -> commits.put(partition, new OffsetAndMetadata(offset)));
		for (Map.Entry<TopicPartition, List<Forward>> entry : sends.entrySet()) {
			TopicPartition partition = entry.getKey();
			Forward failed = null;
			for (Forward forward : entry.getValue()) {
				Throwable failure = (forward.next != null) ? await(forward.result) : null;
				if (failure != null && forward.next != null && KafkaErrors.isPermanent(failure)
						&& !this.plans.isDeadLetter(forward.next.topic())) {
					// refused for good (not authorised, invalid): set aside with the reason, never retried
					String reason = "Kafka refused it for good: " + KafkaErrors.describe(failure);
					logger.error("Delay topic record {}-{}@{} (rk-id={}) could not be forwarded to {}: {}; it goes to {}",
							forward.record.topic(), forward.record.partition(), forward.record.offset(),
							LogText.of(RkHeaders.id(forward.record.headers())), forward.next.topic(),
							KafkaErrors.describe(failure), this.deadLetterTopic);
					failure = await(send(this.plans.deadLetter(forward.record, reason)));
				}
				if (failed == null && failure == null) {
					commits.put(partition, new OffsetAndMetadata(forward.record.offset() + 1));
					count(forward);
					this.partitions.committed(partition, forward.record.offset());
				}
				else if (failed == null) {
					failed = forward;
					long backoff = this.partitions.failed(partition);
					logger.warn("Delay forwarder could not send {}-{}@{} (rk-id={}) to {}; it tries again from there in "
							+ "{} ms, without sending the partition's later records twice: {}", forward.record.topic(),
							forward.record.partition(), forward.record.offset(),
							LogText.of(RkHeaders.id(forward.record.headers())), forward.next.topic(), backoff,
							KafkaErrors.describe(failure));
					tierConsumer.seek(partition, forward.record.offset());
					tierConsumer.pause(List.of(partition));
					this.partitions.pauseUntil(partition, System.currentTimeMillis() + backoff);
				}
				else if (failure == null && forward.next != null) {
					// delivered after the failed one: remembered, so that the retry from there does not send it again
					this.partitions.forwardedAfterAFailure(partition, forward.record.offset());
					count(forward);
				}
			}
			if (failed == null) {
				this.partitions.succeeded(partition);
			}
		}
		if (!commits.isEmpty()) {
			tierConsumer.commitSync(commits);
		}
	}

	private CompletableFuture<SendResult<String, byte[]>> send(ProducerRecord<String, byte[]> record) {
		try {
			return this.kafka.forward(record);
		}
		catch (RuntimeException ex) { // a send refused before it left (metadata not available in max.block.ms)
			return CompletableFuture.failedFuture(ex);
		}
	}

	private void count(Forward forward) {
		if (forward.next == null) {
			return;
		}
		if (forward.next.topic().equals(RkHeaders.text(forward.record.headers(), RkHeaders.TARGET_TOPIC))) {
			this.forwarded.incrementAndGet();
		}
		else if (!this.plans.isDeadLetter(forward.next.topic())) {
			this.hops.incrementAndGet();
		}
	}

	private void hold(Consumer<String, byte[]> tierConsumer, TopicPartition partition,
			ConsumerRecord<String, byte[]> head, long leavesAt) {
		tierConsumer.seek(partition, head.offset());
		tierConsumer.pause(List.of(partition));
		this.partitions.pauseUntil(partition, leavesAt);
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

	/** A record sent on; {@code next} is {@code null} for one forwarded before and skipped now. */
	private record Forward(ConsumerRecord<String, byte[]> record, @Nullable ProducerRecord<String, byte[]> next,
			CompletableFuture<SendResult<String, byte[]>> result) {
	}

	/** Partitions leave with nothing pending (commits are synchronous); their pause plans go with them. */
	private final class Rebalance implements ConsumerRebalanceListener {

		@Override
		public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
			DelayForwarder.this.partitions.forget(revoked);
		}

		@Override
		public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
			DelayForwarder.this.partitions.assigned(assigned);
		}

	}

}
