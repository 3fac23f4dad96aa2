package io.github.reliablekafka.producer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import io.github.reliablekafka.autoconfigure.producer.ReliableKafkaProducerAutoConfiguration;
import io.github.reliablekafka.support.RkHeaders;
import io.github.reliablekafka.testing.DeliveryReport;
import io.github.reliablekafka.testing.ForkedKafka;
import io.github.reliablekafka.testing.KafkaTestSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.kafka.support.SendResult;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The producer's guarantees, proven on real broker processes killed with SIGKILL.
 */
class ReliableProducerGuaranteeTests {

	private static ApplicationContextRunner runner(ForkedKafka kafka, String... properties) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class,
					ReliableKafkaProducerAutoConfiguration.class))
			.withPropertyValues("spring.kafka.bootstrap-servers=" + kafka.bootstrapServers())
			.withPropertyValues(properties);
	}

	@Test
	void noAcknowledgedSendIsLostWhenBrokerIsKilled() throws Exception {
		try (ForkedKafka kafka = ForkedKafka.singleNode()) {
			String topic = KafkaTestSupport.uniqueTopic("producer-kill");
			kafka.createTopic(topic, 4, 1, Map.of());
			runner(kafka).run((context) -> {
				ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
				AtomicInteger sent = new AtomicInteger();
				AtomicLong downMillis = new AtomicLong();
				Thread chaos = new Thread(() -> {
					awaitCount(sent, 5_000);
					long killedAt = System.nanoTime();
					kafka.kill(1);
					sleep(2_000);
					kafka.restart(1);
					downMillis.set((System.nanoTime() - killedAt) / 1_000_000);
				});
				chaos.start();
				List<CompletableFuture<SendResult<String, byte[]>>> futures = new ArrayList<>();
				for (int i = 0; i < 20_000; i++) {
					String key = "key-" + (i % 100);
					futures.add(template.send(topic, key, key + ":" + (i / 100)));
					sent.incrementAndGet();
					if (i % 100 == 99) {
						Thread.sleep(5);
					}
				}
				chaos.join();
				Outcomes outcomes = Outcomes.await(futures, Duration.ofMinutes(3));
				List<ConsumerRecord<String, byte[]>> onTopic = KafkaTestSupport.readAll(kafka.bootstrapServers(), topic,
						Duration.ofSeconds(60));
				System.out.printf("broker killed and back after %d ms; futures: succeeded=%d failed=%d pending=%d%n",
						downMillis.get(), outcomes.succeeded.size(), outcomes.failed, outcomes.pending);
				DeliveryReport report = DeliveryReport
					.of(outcomes.succeeded, onTopic, ReliableProducerGuaranteeTests::sequence)
					.print("noAcknowledgedSendIsLostWhenBrokerIsKilled");
				assertThat(downMillis.get()).isLessThan(20_000);
				assertThat(outcomes.pending).isZero();
				assertThat(report.lost()).isZero();
				assertThat(report.reorders()).isZero();
				assertThat(outcomes.succeeded.size() + outcomes.failed).isEqualTo(20_000);
			});
		}
	}

	@Test
	void keyOrderHoldsWhenTheLibraryRetriesPastTheClientsDeliveryTimeout() throws Exception {
		try (ForkedKafka kafka = ForkedKafka.singleNode()) {
			String topic = KafkaTestSupport.uniqueTopic("producer-retry");
			kafka.createTopic(topic, 2, 1, Map.of());
			runner(kafka, "spring.kafka.producer.properties[delivery.timeout.ms]=3000",
					"spring.kafka.producer.properties[request.timeout.ms]=1000",
					"spring.kafka.producer.properties[linger.ms]=0",
					"spring.kafka.producer.properties[max.block.ms]=2000",
					"reliable.kafka.producer.retry.max-attempts=20",
					"reliable.kafka.producer.retry.delay=200ms",
					"reliable.kafka.producer.retry.max-delay=1s")
				.run((context) -> {
					ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
					List<CompletableFuture<SendResult<String, byte[]>>> futures = new ArrayList<>();
					for (int i = 0; i < 500; i++) {
						futures.add(template.send(topic, "key-" + (i % 20), "key-" + (i % 20) + ":" + (i / 20)));
					}
					Outcomes.await(futures, Duration.ofSeconds(30));
					kafka.kill(1);
					for (int i = 500; i < 2_000; i++) {
						futures.add(template.send(topic, "key-" + (i % 20), "key-" + (i % 20) + ":" + (i / 20)));
						if (i % 100 == 0) {
							Thread.sleep(200); // keep sending while the client's 3 s delivery timeout expires
						}
					}
					sleep(3_000);
					kafka.restart(1);
					Outcomes outcomes = Outcomes.await(futures, Duration.ofMinutes(2));
					List<ConsumerRecord<String, byte[]>> onTopic = KafkaTestSupport.readAll(kafka.bootstrapServers(),
							topic, Duration.ofSeconds(60));
					System.out.printf("futures: succeeded=%d failed=%d pending=%d %s%n", outcomes.succeeded.size(),
							outcomes.failed, outcomes.pending, outcomes.messages.stream().limit(3).toList());
					DeliveryReport report = DeliveryReport
						.of(outcomes.succeeded, onTopic, ReliableProducerGuaranteeTests::sequence)
						.print("keyOrderHoldsWhenTheLibraryRetriesPastTheClientsDeliveryTimeout");
					assertThat(outcomes.succeeded).hasSize(2_000);
					assertThat(report.lost()).isZero();
					assertThat(report.reorders()).isZero();
				});
		}
	}

	@Test
	void everySendFailsClearlyWithinTheRetryBudgetWhenTheBrokerStaysDown() throws Exception {
		try (ForkedKafka kafka = ForkedKafka.singleNode()) {
			String topic = KafkaTestSupport.uniqueTopic("producer-down");
			kafka.createTopic(topic, 2, 1, Map.of());
			runner(kafka, "spring.kafka.producer.properties[delivery.timeout.ms]=3000",
					"spring.kafka.producer.properties[request.timeout.ms]=1000",
					"spring.kafka.producer.properties[linger.ms]=0",
					"spring.kafka.producer.properties[max.block.ms]=2000",
					"reliable.kafka.producer.retry.max-attempts=3",
					"reliable.kafka.producer.retry.delay=200ms")
				.run((context) -> {
					ReliableKafkaTemplate template = context.getBean(ReliableKafkaTemplate.class);
					List<CompletableFuture<SendResult<String, byte[]>>> before = new ArrayList<>();
					for (int i = 0; i < 100; i++) {
						before.add(template.send(topic, "key-" + (i % 10), "key-" + (i % 10) + ":" + i));
					}
					Outcomes acknowledged = Outcomes.await(before, Duration.ofSeconds(30));
					// the broker is SIGKILLed while sends are on their way: some have reached it, some are in flight,
					// some have not left the client
					List<CompletableFuture<SendResult<String, byte[]>>> during = new ArrayList<>();
					for (int i = 100; i < 1_100; i++) {
						during.add(template.send(topic, "key-" + (i % 10), "key-" + (i % 10) + ":" + i));
						if (i == 400) {
							kafka.kill(1);
						}
					}
					long lastSent = System.nanoTime();
					Outcomes outcomes = Outcomes.await(during, Duration.ofSeconds(40));
					long elapsedMillis = (System.nanoTime() - lastSent) / 1_000_000;
					// the documented budget: max-attempts x (delivery.timeout.ms + max.block.ms) + back-offs
					long budgetMillis = 3 * (3_000 + 2_000) + 200 + 400;
					System.out.printf("broker killed during sends: %d sends, succeeded=%d not delivered=%d in doubt=%d "
							+ "pending=%d, the last %d ms after it was sent (budget %d ms)%n", during.size(),
							outcomes.succeeded.size(), outcomes.failedIds.size(), outcomes.inDoubtIds.size(),
							outcomes.pending, elapsedMillis, budgetMillis);
					if (outcomes.pending > 0) {
						System.out.println(((DirectReliableKafkaTemplate) template).describeLanes());
					}
					assertThat(outcomes.pending).as("sends without an outcome").isZero();
					assertThat(elapsedMillis).isLessThan(budgetMillis + 1_000);
					assertThat(outcomes.messages).allSatisfy((message) -> assertThat(message)
						.containsAnyOf("failed after 3 attempt(s)", "IN DOUBT after 3 attempt(s)")
						.contains("max-attempts=3"));
					kafka.restart(1);
					List<ConsumerRecord<String, byte[]>> onTopic = KafkaTestSupport.readAll(kafka.bootstrapServers(),
							topic, Duration.ofSeconds(60));
					Set<String> ids = onTopic.stream().map((record) -> RkHeaders.id(record.headers()))
						.collect(Collectors.toSet());
					Set<String> saidNotDeliveredButOnTopic = outcomes.failedIds.stream().filter(ids::contains)
						.collect(Collectors.toSet());
					long inDoubtOnTopic = outcomes.inDoubtIds.stream().filter(ids::contains).count();
					Set<String> acknowledgedAll = new java.util.LinkedHashSet<>(acknowledged.succeeded);
					acknowledgedAll.addAll(outcomes.succeeded);
					long lost = acknowledgedAll.stream().filter((id) -> !ids.contains(id)).count();
					System.out.printf("on the topic afterwards: %d of %d acknowledged (lost %d), %d of %d said 'not "
							+ "delivered' (must be 0), %d of %d in doubt%n", acknowledgedAll.size() - lost,
							acknowledgedAll.size(), lost, saidNotDeliveredButOnTopic.size(), outcomes.failedIds.size(),
							inDoubtOnTopic, outcomes.inDoubtIds.size());
					assertThat(lost).as("acknowledged and not on the topic").isZero();
					assertThat(saidNotDeliveredButOnTopic).as("'not delivered' and on the topic").isEmpty();
				});
		}
	}

	@Test
	void sendBlocksThenFailsAndInFlightStaysBoundedWhileTheBrokerIsDown() throws Exception {
		try (ForkedKafka kafka = ForkedKafka.singleNode()) {
			String topic = KafkaTestSupport.uniqueTopic("producer-pressure");
			kafka.createTopic(topic, 1, 1, Map.of());
			runner(kafka, "reliable.kafka.producer.max-in-flight=200", "reliable.kafka.producer.max-block=300ms",
					"spring.kafka.producer.properties[max.block.ms]=2000")
				.run((context) -> {
					DirectReliableKafkaTemplate template = (DirectReliableKafkaTemplate) context
						.getBean(ReliableKafkaTemplate.class);
					template.sendAndWait(topic, "k", "warm-up");
					kafka.kill(1);
					List<CompletableFuture<SendResult<String, byte[]>>> accepted = new ArrayList<>();
					for (int i = 0; i < 200; i++) {
						accepted.add(template.send(topic, "k" + i, new byte[1_024]));
					}
					int maxInFlightSeen = template.inFlight();
					long start = System.nanoTime();
					List<CompletableFuture<SendResult<String, byte[]>>> refused = new ArrayList<>();
					for (int i = 0; i < 10; i++) {
						refused.add(template.send(topic, "k" + i, new byte[1_024]));
						maxInFlightSeen = Math.max(maxInFlightSeen, template.inFlight());
					}
					long blockedMillis = (System.nanoTime() - start) / 1_000_000;
					System.out.printf("in flight: %d (bound 200); 10 further sends blocked %d ms in all (300 ms each)%n",
							maxInFlightSeen, blockedMillis);
					assertThat(maxInFlightSeen).isEqualTo(200);
					assertThat(blockedMillis).isBetween(10 * 250L, 10 * 2_000L);
					assertThat(refused).allSatisfy((future) -> assertThat(future).isCompletedExceptionally());
					assertThat(Outcomes.await(refused, Duration.ofSeconds(1)).messages)
						.allSatisfy((message) -> assertThat(message).contains("max-in-flight"));
					assertThat(accepted).noneMatch(CompletableFuture::isDone);
					kafka.restart(1);
					Outcomes outcomes = Outcomes.await(accepted, Duration.ofMinutes(2));
					System.out.printf("after restart: succeeded=%d failed=%d pending=%d %s%n", outcomes.succeeded.size(),
							outcomes.failed, outcomes.pending, outcomes.messages.stream().limit(3).toList());
					assertThat(outcomes.succeeded).hasSize(200);
					assertThat(template.inFlight()).isZero();
				});
		}
	}

	private static long sequence(ConsumerRecord<String, byte[]> record) {
		String value = new String(record.value(), StandardCharsets.UTF_8);
		return Long.parseLong(value.substring(value.indexOf(':') + 1));
	}

	private static void awaitCount(AtomicInteger counter, int target) {
		while (counter.get() < target) {
			sleep(5);
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/** The outcome of each future, waited for up to a shared deadline. */
	static final class Outcomes {

		final Set<String> succeeded = new java.util.LinkedHashSet<>();

		/** Failed with a plain ReliableSendException: not written. */
		final Set<String> failedIds = new java.util.HashSet<>();

		/** Failed with ReliableSendInDoubtException: may be on the topic. */
		final Set<String> inDoubtIds = new java.util.HashSet<>();

		final List<String> messages = new ArrayList<>();

		int failed;

		int pending;

		static Outcomes await(List<CompletableFuture<SendResult<String, byte[]>>> futures, Duration timeout) {
			Outcomes outcomes = new Outcomes();
			long deadline = System.nanoTime() + timeout.toNanos();
			for (CompletableFuture<SendResult<String, byte[]>> future : futures) {
				try {
					SendResult<String, byte[]> result = future.get(Math.max(1, deadline - System.nanoTime()),
							TimeUnit.NANOSECONDS);
					outcomes.succeeded.add(RkHeaders.id(result.getProducerRecord().headers()));
				}
				catch (ExecutionException ex) {
					outcomes.failed++;
					outcomes.messages.add(ex.getCause().getMessage());
					if (ex.getCause() instanceof ReliableSendInDoubtException inDoubt) {
						outcomes.inDoubtIds.add(inDoubt.getMessageId());
					}
					else if (ex.getCause() instanceof ReliableSendException failure) {
						outcomes.failedIds.add(failure.getMessageId());
					}
				}
				catch (java.util.concurrent.TimeoutException ex) {
					outcomes.pending++;
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					throw new IllegalStateException(ex);
				}
			}
			return outcomes;
		}

	}

}
