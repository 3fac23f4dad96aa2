package io.github.reliablekafka.producer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.github.reliablekafka.internal.RetryBackoff;
import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.mock.MockProducerFactory;
import org.springframework.kafka.support.ProducerListener;
import org.springframework.kafka.support.SendResult;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * The template's retry, order and back-pressure logic, driven step by step through a {@link MockProducer} whose
 * sends complete or fail only when the test says so. Guarantees on a real broker are proven in
 * {@code ReliableProducerGuaranteeTests}.
 */
class DirectReliableKafkaTemplateTests {

	private final ManualProducer producer = new ManualProducer();

	private final RecordingListener listener = new RecordingListener();

	private DirectReliableKafkaTemplate template = template(100, Duration.ofSeconds(1), 3);

	@AfterEach
	void close() {
		this.producer.completeAll();
		this.template.destroy();
	}

	@Test
	void everyRecordCarriesAFreshMessageIdAndLeavesItsCreationTimeToTheKafkaTimestamp() throws Exception {
		CompletableFuture<SendResult<String, byte[]>> first = this.template.send("t", "k", "a");
		CompletableFuture<SendResult<String, byte[]>> second = this.template.send("t", "k", "a");
		this.producer.completeAll();
		String firstId = RkHeaders.id(first.get().getProducerRecord().headers());
		String secondId = RkHeaders.id(second.get().getProducerRecord().headers());
		assertThat(firstId).isNotBlank().isNotEqualTo(secondId);
		assertThat(first.get().getProducerRecord().headers().lastHeader(RkHeaders.CREATED_AT))
			.as("a direct send's creation time is its Kafka timestamp: no rk-created-at on the wire")
			.isNull();
		assertThat(first.get().getProducerRecord().timestamp())
			.as("left to the client, which stamps the send time (CreateTime)")
			.isNull();
	}

	@Test
	void aSendOutcomeListenerThatThrowsAnErrorLeavesEveryFutureCompletedAndEverySlotReleased() throws Exception {
		SendOutcomeListener throwing = new SendOutcomeListener() {

			@Override
			public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
				throw new AssertionError("a listener's bug");
			}

			@Override
			public void onFailure(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
				throw new NoClassDefFoundError("a listener's missing class");
			}

		};
		for (SendOutcomeListener only : List.of(throwing, SendOutcomeListener.composite(List.of(throwing, this.listener)))) {
			this.template.destroy();
			this.template = (DirectReliableKafkaTemplate) ReliableKafkaTemplate.builder(kafkaTemplate())
				.retry(new RetryBackoff(1, Duration.ofMillis(10), 1.0, Duration.ofMillis(10)))
				.maxInFlight(2)
				.maxBlock(Duration.ofSeconds(1))
				.sendTimeout(Duration.ofSeconds(1))
				.listener(only)
				.build();
			List<CompletableFuture<SendResult<String, byte[]>>> futures = new ArrayList<>();
			this.producer.clear();
			for (int i = 0; i < 5; i++) {
				futures.add(this.template.send("t", "k" + i, "v" + i));
				int sent = i + 1;
				await().atMost(Duration.ofSeconds(5)).until(() -> this.producer.history().size() == sent);
				if (i == 2) {
					this.producer.errorNext(new RecordTooLargeException("too large"));
				}
				else {
					this.producer.completeNext();
				}
			}
			for (CompletableFuture<SendResult<String, byte[]>> future : futures) {
				await().atMost(Duration.ofSeconds(5)).until(future::isDone);
			}
			assertThat(futures).filteredOn(CompletableFuture::isCompletedExceptionally).hasSize(1);
			assertThat(this.template.inFlight()).as("slots held").isZero();
		}
	}

	@Test
	void outcomesRunOffTheThreadThatCompletesTheSendsOneAtATimeInTheOrderTheyCame() throws Exception {
		int sends = 5_000;
		List<String> listenerThreads = java.util.Collections.synchronizedList(new ArrayList<>());
		List<String> stageThreads = java.util.Collections.synchronizedList(new ArrayList<>());
		List<String> heard = java.util.Collections.synchronizedList(new ArrayList<>());
		this.template.destroy();
		this.template = (DirectReliableKafkaTemplate) ReliableKafkaTemplate.builder(kafkaTemplate())
			.maxInFlight(sends)
			.listener(new SendOutcomeListener() {

				@Override
				public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
					listenerThreads.add(Thread.currentThread().getName());
					heard.add(new String(record.value(), StandardCharsets.UTF_8));
				}

			})
			.build();
		List<CompletableFuture<?>> futures = new ArrayList<>();
		for (int i = 0; i < sends; i++) {
			futures.add(this.template.send("t", "k", "v" + i)
				.thenRun(() -> stageThreads.add(Thread.currentThread().getName())));
		}
		// the client's I/O thread: it completes every send, as KafkaProducer's does, and must run none of their outcomes
		Thread io = new Thread(this.producer::completeAll, "kafka-producer-network-thread | test");
		io.start();
		io.join();
		CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
		long onIo = java.util.stream.Stream.concat(listenerThreads.stream(), stageThreads.stream())
			.filter(io.getName()::equals)
			.count();
		long outOfOrder = java.util.stream.IntStream.range(0, heard.size())
			.filter((i) -> !heard.get(i).equals("v" + i))
			.count();
		System.out.printf("outcomes of %,d sends: %,d heard, %d run on the I/O thread, %d out of order, threads %s%n",
				sends, heard.size(), onIo, outOfOrder, new java.util.TreeSet<>(listenerThreads));
		assertThat(heard).hasSize(sends);
		assertThat(onIo).as("outcomes and future stages run on the client's I/O thread").isZero();
		assertThat(outOfOrder).as("outcomes heard out of the order the sends completed in").isZero();
		assertThat(new java.util.TreeSet<>(listenerThreads)).as("one outcome thread").hasSize(1);
	}

	@Test
	void laterRecordsOfAKeyWaitBehindARetryAndGoOutInOrder() throws Exception {
		this.template = template(100, Duration.ofSeconds(1), 3, Duration.ofMillis(300));
		CompletableFuture<SendResult<String, byte[]>> a = this.template.send("t", "k", "a");
		this.producer.errorNext(new TimeoutException("delivery timeout"));
		await().until(() -> this.listener.attemptFailures.size() == 1);
		CompletableFuture<SendResult<String, byte[]>> b = this.template.send("t", "k", "b");
		CompletableFuture<SendResult<String, byte[]>> c = this.template.send("t", "k", "c");
		assertThat(values(this.producer.history())).as("b and c are held while a waits").containsExactly("a");
		await().until(() -> this.producer.history().size() == 4);
		assertThat(values(this.producer.history())).containsExactly("a", "a", "b", "c");
		this.producer.completeAll();
		assertThat(a.get().getRecordMetadata()).isNotNull();
		assertThat(b.get()).isNotNull();
		assertThat(c.get()).isNotNull();
		assertThat(this.listener.successes).containsExactly("a", "b", "c");
		assertThat(this.listener.orderBreaks).isEmpty();
	}

	@Test
	void newRecordsOfAKeyWaitWhileItsRetryIsInFlight() throws Exception {
		this.template.send("t", "k", "a");
		this.producer.errorNext(new TimeoutException("delivery timeout"));
		await().until(() -> this.producer.history().size() == 2);
		CompletableFuture<SendResult<String, byte[]>> b = this.template.send("t", "k", "b");
		Thread.sleep(100);
		assertThat(values(this.producer.history())).containsExactly("a", "a");
		this.producer.completeNext();
		await().until(() -> this.producer.history().size() == 3);
		this.producer.completeNext();
		assertThat(b.get()).isNotNull();
		assertThat(this.listener.successes).containsExactly("a", "b");
	}

	@Test
	void otherKeysKeepFlowingWhileOneKeyWaitsForARetry() throws Exception {
		this.template = template(100, Duration.ofSeconds(1), 3, Duration.ofHours(1));
		this.template.send("t", "slow", "s1");
		this.producer.errorNext(new TimeoutException("delivery timeout"));
		await().until(() -> this.listener.attemptFailures.size() == 1);
		CompletableFuture<SendResult<String, byte[]>> other = this.template.send("t", "fast", "f1");
		this.producer.completeNext();
		assertThat(other.get().getProducerRecord().key()).isEqualTo("fast");
		assertThat(values(this.producer.history())).containsExactly("s1", "f1");
	}

	@Test
	void aFailureNoRetryCanFixEndsTheSendAtOnce() {
		CompletableFuture<SendResult<String, byte[]>> send = this.template.send("t", "k", "x");
		this.producer.errorNext(new RecordTooLargeException("too big for the broker"));
		assertThatExceptionOfType(Exception.class).isThrownBy(send::join)
			.havingRootCause()
			.isInstanceOf(RecordTooLargeException.class);
		assertThat(this.producer.history()).hasSize(1);
		assertThat(this.listener.failures).containsExactly("x");
	}

	@Test
	void retriesStopAfterMaxAttemptsWithAClearError() {
		// each attempt fails after the client took the record (its delivery time-out): it may be on the topic
		CompletableFuture<SendResult<String, byte[]>> send = this.template.send("t", "k", "x");
		for (int attempt = 1; attempt <= 3; attempt++) {
			int expected = attempt;
			await().until(() -> this.producer.history().size() == expected);
			this.producer.errorNext(new TimeoutException("broker down"));
		}
		assertThatExceptionOfType(Exception.class).isThrownBy(send::join)
			.havingCause()
			.isInstanceOf(ReliableSendInDoubtException.class)
			.withMessageContaining("IN DOUBT after 3 attempt(s)")
			.withMessageContaining("max-attempts=3")
			.satisfies((ex) -> assertThat(((ReliableSendException) ex).getAttempts()).isEqualTo(3));
		assertThat(this.listener.attemptFailures).hasSize(2);
		assertThat(this.listener.inDoubt).containsExactly("x");
		assertThat(this.listener.failures).as("'not delivered' is said only when no copy can exist").isEmpty();
	}

	@Test
	void aSendRefusedBeforeItLeftTheClientIsNotDeliveredNotInDoubt() {
		this.producer.metadataDown(Duration.ofMillis(50)); // send() itself fails: the record never left the client
		CompletableFuture<SendResult<String, byte[]>> send = this.template.send("t", "k", "x");
		assertThatExceptionOfType(Exception.class).isThrownBy(send::join)
			.havingCause()
			.isExactlyInstanceOf(ReliableSendException.class)
			.withMessageContaining("it was not written");
		assertThat(this.listener.failures).containsExactly("x");
		assertThat(this.listener.inDoubt).isEmpty();
	}

	@Test
	void aLaterRecordAcknowledgedBeforeAnEarlierOneIsRetriedIsReportedAsAnOrderBreak() {
		this.template.send("t", "k", "a");
		this.template.send("t", "k", "b");
		this.producer.errorNext(new TimeoutException("a expired"));
		await().until(() -> this.listener.attemptFailures.size() == 1);
		this.producer.completeNext();
		await().until(() -> this.listener.orderBreaks.size() == 1);
		assertThat(this.listener.orderBreaks).containsExactly("b");
	}

	@Test
	void sendBlocksAtTheInFlightLimitThenFailsWithoutSending() {
		this.template = template(2, Duration.ofMillis(200), 3);
		this.template.send("t", "k", "1");
		this.template.send("t", "k", "2");
		long start = System.nanoTime();
		CompletableFuture<SendResult<String, byte[]>> third = this.template.send("t", "k", "3");
		long blockedMillis = (System.nanoTime() - start) / 1_000_000;
		assertThat(blockedMillis).isBetween(150L, 5_000L);
		assertThatExceptionOfType(Exception.class).isThrownBy(third::join)
			.havingCause()
			.withMessageContaining("max-in-flight");
		assertThat(this.producer.history()).hasSize(2);
		assertThat(this.template.inFlight()).isEqualTo(2);
	}

	@Test
	void badInputIsRefusedBeforeAnythingIsSent() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.template.send(" ", "k", "x"))
			.withMessageContaining("topic");
		assertThatExceptionOfType(io.github.reliablekafka.support.PayloadCodecException.class)
			.isThrownBy(() -> this.template.send("t", "k", new Unserializable()))
			.withMessageContaining(Unserializable.class.getName());
		this.template = template(100, Duration.ofSeconds(1), 3, Duration.ofMillis(10), 1_000);
		assertThatIllegalArgumentException().isThrownBy(() -> this.template.send("t", "k", new byte[2_000]))
			.withMessageContaining("max.request.size=1000");
		assertThat(this.producer.history()).isEmpty();
		assertThat(this.template.inFlight()).isZero();
	}

	@Test
	void aRecordIsRefusedExactlyWhenItsMeasuredSizeExceedsMaxRequestSize() {
		// records far below the limit are not measured: at every size around the limit the refusal must still match
		// the client's own upper bound for the record as sent (key, value and the rk-id header)
		this.template = template(2_000, Duration.ofSeconds(1), 3, Duration.ofMillis(10), 1_000);
		int accepted = 0;
		int refused = 0;
		for (int size = 300; size <= 1_000; size++) {
			byte[] value = new byte[size];
			org.apache.kafka.common.header.Header[] headers = { new org.apache.kafka.common.header.internals.RecordHeader(
					RkHeaders.ID, new byte[36]) };
			int measured = org.apache.kafka.common.record.AbstractRecords.estimateSizeInBytesUpperBound(
					org.apache.kafka.common.record.RecordBatch.CURRENT_MAGIC_VALUE,
					org.apache.kafka.common.record.CompressionType.NONE, "k".getBytes(StandardCharsets.UTF_8), value,
					headers);
			boolean tooLarge = measured > 1_000;
			try {
				this.template.send("t", "k", value);
				assertThat(tooLarge).as("a %d-byte value (%d bytes measured) was sent", size, measured).isFalse();
				accepted++;
			}
			catch (IllegalArgumentException ex) {
				assertThat(tooLarge).as("a %d-byte value (%d bytes measured) was refused", size, measured).isTrue();
				refused++;
			}
			this.producer.completeAll();
		}
		System.out.printf("max.request.size=1000: %d sizes sent, %d refused, 0 misjudged%n", accepted, refused);
		assertThat(accepted).isPositive();
		assertThat(refused).isPositive();
	}

	@Test
	void closingFailsWhatIsStillUnconfirmedWithAClearError() {
		this.template = template(100, Duration.ofMillis(300), 3);
		CompletableFuture<SendResult<String, byte[]>> pending = this.template.send("t", "k", "x");
		this.template.destroy();
		this.producer.errorNext(new TimeoutException("closing"));
		assertThatExceptionOfType(Exception.class).isThrownBy(pending::join)
			.havingCause()
			.withMessageContaining("closed before it was confirmed");
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> this.template.send("t", "k", "y"));
	}

	@Test
	void aListenerThatThrowsDoesNotChangeTheOutcome() throws Exception {
		this.template = (DirectReliableKafkaTemplate) ReliableKafkaTemplate.builder(kafkaTemplate())
			.listener(new SendOutcomeListener() {
				@Override
				public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
					throw new IllegalStateException("listener bug");
				}
			})
			.build();
		CompletableFuture<SendResult<String, byte[]>> send = this.template.send("t", "k", "x");
		this.producer.completeNext();
		assertThat(send.get()).isNotNull();
	}

	@Test
	void onlyOneAttemptAtATimeBlocksOnAnUnavailableTopicAndRecoveryIsNoticedAtOnce() throws Exception {
		this.template = template(100, Duration.ofSeconds(1), 50, Duration.ofMillis(50));
		this.producer.metadataDown(Duration.ofMillis(300));
		List<CompletableFuture<SendResult<String, byte[]>>> sends = new java.util.ArrayList<>();
		long start = System.nanoTime();
		for (int i = 0; i < 20; i++) {
			sends.add(this.template.send("t", "key-" + i, "v" + i));
		}
		long sendingMillis = (System.nanoTime() - start) / 1_000_000;
		Thread.sleep(1_500);
		this.producer.metadataUp();
		long up = System.nanoTime();
		await().atMost(Duration.ofSeconds(5)).until(() -> this.producer.history().size() == 20);
		this.producer.completeAll();
		for (CompletableFuture<SendResult<String, byte[]>> send : sends) {
			assertThat(send.get()).isNotNull();
		}
		long recoveryMillis = (System.nanoTime() - up) / 1_000_000;
		System.out.printf("20 keys, topic out for 1.5 s: sending took %d ms, at most %d client call(s) blocked at once, "
				+ "%d blocked in all, recovered %d ms after metadata returned%n", sendingMillis,
				this.producer.maxConcurrentBlocked.get(), this.producer.blockedCalls.get(), recoveryMillis);
		assertThat(sendingMillis).as("only the first send waits for metadata").isLessThan(1_000);
		assertThat(this.producer.maxConcurrentBlocked.get()).isEqualTo(1);
		assertThat(this.producer.blockedCalls.get()).isLessThanOrEqualTo(8);
		assertThat(recoveryMillis).isLessThan(300 + 50 + 500);
	}

	private DirectReliableKafkaTemplate template(int maxInFlight, Duration timeouts, int maxAttempts) {
		return template(maxInFlight, timeouts, maxAttempts, Duration.ofMillis(10));
	}

	private DirectReliableKafkaTemplate template(int maxInFlight, Duration timeouts, int maxAttempts, Duration backoff) {
		return template(maxInFlight, timeouts, maxAttempts, backoff, 1_048_576);
	}

	private DirectReliableKafkaTemplate template(int maxInFlight, Duration timeouts, int maxAttempts, Duration backoff,
			int maxRequestSize) {
		if (this.template != null) {
			this.template.destroy();
		}
		return (DirectReliableKafkaTemplate) ReliableKafkaTemplate.builder(kafkaTemplate())
			.retry(new RetryBackoff(maxAttempts, backoff, 1.0, backoff))
			.maxInFlight(maxInFlight)
			.maxBlock(timeouts)
			.sendTimeout(timeouts)
			.maxRequestSize(maxRequestSize)
			.listener(this.listener)
			.build();
	}

	private KafkaTemplate<String, byte[]> kafkaTemplate() {
		KafkaTemplate<String, byte[]> kafkaTemplate = new KafkaTemplate<>(new MockProducerFactory<>(() -> this.producer));
		kafkaTemplate.setProducerListener(new ProducerListener<>() {
		});
		return kafkaTemplate;
	}

	static final class Unserializable {

		public String getValue() {
			throw new IllegalStateException("cannot be read");
		}

	}

	private static List<String> values(List<ProducerRecord<String, byte[]>> records) {
		return records.stream().map((record) -> new String(record.value(), StandardCharsets.UTF_8)).toList();
	}

	/**
	 * A mock producer that completes sends only when told, that the template cannot close, and whose metadata can
	 * be made unavailable: a send then blocks, as {@code KafkaProducer} does for {@code max.block.ms}, and times out.
	 */
	static final class ManualProducer extends MockProducer<String, byte[]> {

		private volatile long blockMillis = -1;

		private final java.util.concurrent.atomic.AtomicInteger blocked = new java.util.concurrent.atomic.AtomicInteger();

		final java.util.concurrent.atomic.AtomicInteger maxConcurrentBlocked = new java.util.concurrent.atomic.AtomicInteger();

		final java.util.concurrent.atomic.AtomicInteger blockedCalls = new java.util.concurrent.atomic.AtomicInteger();

		ManualProducer() {
			super(false, null, new StringSerializer(), new ByteArraySerializer());
		}

		void metadataDown(Duration block) {
			this.blockMillis = block.toMillis();
		}

		void metadataUp() {
			this.blockMillis = -1;
		}

		@Override
		public java.util.concurrent.Future<RecordMetadata> send(ProducerRecord<String, byte[]> record,
				org.apache.kafka.clients.producer.Callback callback) {
			long block = this.blockMillis;
			if (block >= 0) {
				this.blockedCalls.incrementAndGet();
				this.maxConcurrentBlocked.accumulateAndGet(this.blocked.incrementAndGet(), Math::max);
				try {
					long deadline = System.currentTimeMillis() + block;
					while (this.blockMillis >= 0 && System.currentTimeMillis() < deadline) {
						Thread.sleep(5); // returns early when metadata comes back, as KafkaProducer does
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				finally {
					this.blocked.decrementAndGet();
				}
				if (this.blockMillis >= 0) {
					throw new TimeoutException("Topic " + record.topic() + " not present in metadata after " + block + " ms.");
				}
			}
			return super.send(record, callback);
		}

		void completeAll() {
			while (completeNext()) {
				// drain
			}
		}

		@Override
		public void close() {
		}

		@Override
		public void close(Duration timeout) {
		}

	}

	static final class RecordingListener implements SendOutcomeListener {

		final List<String> successes = new CopyOnWriteArrayList<>();

		final List<String> attemptFailures = new CopyOnWriteArrayList<>();

		final List<String> failures = new CopyOnWriteArrayList<>();

		final List<String> orderBreaks = new CopyOnWriteArrayList<>();

		final List<String> inDoubt = new CopyOnWriteArrayList<>();

		@Override
		public void onInDoubt(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
			this.inDoubt.add(value(record));
		}

		@Override
		public void onSuccess(ProducerRecord<String, byte[]> record, RecordMetadata metadata, int attempt) {
			this.successes.add(value(record));
		}

		@Override
		public void onAttemptFailure(ProducerRecord<String, byte[]> record, int attempt, Throwable cause,
				Duration retryIn) {
			this.attemptFailures.add(value(record));
		}

		@Override
		public void onFailure(ProducerRecord<String, byte[]> record, int attempts, Throwable cause) {
			this.failures.add(value(record));
		}

		@Override
		public void onOrderBreak(ProducerRecord<String, byte[]> record, RecordMetadata metadata) {
			this.orderBreaks.add(value(record));
		}

		private static String value(ProducerRecord<String, byte[]> record) {
			return new String(record.value(), StandardCharsets.UTF_8);
		}

	}

}
