package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The relay thread's inbox: urgent events wake it, events that can wait are taken at its next turn and wake it only
 * when that turn is further away than they may wait, and no event is lost or left behind by the race between a thread
 * that adds one and the relay thread going to sleep.
 */
class RelayQueueTests {

	private static final long LAZY_MILLIS = TimeUnit.NANOSECONDS.toMillis(RelayQueue.LAZY_NANOS);

	@Test
	void anUrgentEventWakesTheRelayThreadAtOnce() throws Exception {
		assertASleepingRelayThreadIsWokenBy((queue) -> queue.urgent("claimed"));
	}

	@Test
	void anEventThatCanWaitWakesARelayThreadThatWouldSleepLongerThanItMayWait() throws Exception {
		assertASleepingRelayThreadIsWokenBy((queue) -> queue.lazy("committed"));
	}

	private static void assertASleepingRelayThreadIsWokenBy(java.util.function.Consumer<RelayQueue> add)
			throws Exception {
		RelayQueue queue = new RelayQueue();
		CompletableFuture<Long> tookMillis = takeInBackground(queue, 60_000);
		awaitSleeping(queue);
		add.accept(queue);
		assertThat(tookMillis.get(10, TimeUnit.SECONDS)).isLessThan(5_000);
		assertThat(queue.wakeUps()).isEqualTo(1);
	}

	@Test
	void eventsThatCanWaitDoNotWakeARelayThreadWhoseNextTurnIsSoonEnough() throws Exception {
		RelayQueue queue = new RelayQueue();
		AtomicBoolean stop = new AtomicBoolean();
		List<Object> taken = new ArrayList<>();
		Thread relay = new Thread(() -> {
			try {
				while (!stop.get() || taken.size() < 1_000) {
					taken.addAll(queue.take(LAZY_MILLIS / 4)); // its timers bring it back well within the bound
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
		relay.start();
		for (int i = 0; i < 1_000; i++) {
			queue.lazy(i);
			if (i % 50 == 0) {
				Thread.sleep(1);
			}
		}
		stop.set(true);
		relay.join(10_000);
		assertThat(taken).hasSize(1_000);
		assertThat(queue.wakeUps()).isZero();
	}

	@Test
	void anEventAddedJustBeforeTheRelayThreadAnnouncesItsSleepIsTakenWithinItsBound() throws Exception {
		RelayQueue queue = new RelayQueue();
		// the event comes after the relay thread looked and before it announced its sleep: nobody wakes it, so it
		// must see the event when it looks again after the announcement
		assertThat(queue.take(0)).as("the relay thread looks: nothing").isEmpty();
		queue.lazy("committed");
		long started = System.nanoTime();
		List<Object> taken = queue.sleepThenTake(60_000);
		assertThat(taken).containsExactly("committed");
		assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(LAZY_MILLIS + 2_000);
		assertThat(queue.wakeUps()).isZero();
	}

	@Test
	void anUrgentEventAddedJustBeforeTheRelayThreadAnnouncesItsSleepIsTakenAtOnce() throws Exception {
		RelayQueue queue = new RelayQueue();
		assertThat(queue.take(0)).as("the relay thread looks: nothing").isEmpty();
		queue.urgent("claimed");
		long started = System.nanoTime();
		assertThat(queue.sleepThenTake(60_000)).containsExactly("claimed");
		assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(2_000);
	}

	@Test
	void everyEventArrivesOnceInOrderAndNoneWaitsForTheRelayThreadsWholeSleep() throws Exception {
		RelayQueue queue = new RelayQueue();
		int producers = 4;
		int perProducer = 20_000;
		AtomicLong worstUrgentMillis = new AtomicLong();
		AtomicLong worstLazyMillis = new AtomicLong();
		List<List<Integer>> seen = new ArrayList<>();
		for (int p = 0; p < producers; p++) {
			seen.add(new ArrayList<>());
		}
		CountDownLatch done = new CountDownLatch(1);
		Thread relay = new Thread(() -> {
			int count = 0;
			try {
				while (count < producers * perProducer) {
					for (Object event : queue.take(2_000)) { // a missed wake-up would show as a 2 s wait
						Sent sent = (Sent) event;
						seen.get(sent.producer).add(sent.sequence);
						long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent.at);
						(sent.urgent ? worstUrgentMillis : worstLazyMillis).accumulateAndGet(waited, Math::max);
						count++;
					}
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			done.countDown();
		});
		relay.start();
		List<Thread> threads = new ArrayList<>();
		for (int p = 0; p < producers; p++) {
			int producer = p;
			Thread thread = new Thread(() -> {
				for (int i = 0; i < perProducer; i++) {
					boolean urgent = i % 10 == 0;
					Sent sent = new Sent(producer, i, urgent, System.nanoTime());
					if (urgent) {
						queue.urgent(sent);
					}
					else {
						queue.lazy(sent);
					}
					if (i % 200 == 0) {
						try {
							Thread.sleep(1); // let the relay thread drain the queue and go to sleep, again and again
						}
						catch (InterruptedException ex) {
							Thread.currentThread().interrupt();
						}
					}
				}
			});
			threads.add(thread);
			thread.start();
		}
		for (Thread thread : threads) {
			thread.join();
		}
		assertThat(done.await(60, TimeUnit.SECONDS)).as("every event taken").isTrue();
		for (List<Integer> sequences : seen) {
			assertThat(sequences).hasSize(perProducer);
			for (int i = 0; i < perProducer; i++) {
				assertThat(sequences.get(i)).isEqualTo(i);
			}
		}
		// a missed wake-up would leave an event for the relay thread's whole 2 s sleep
		assertThat(worstUrgentMillis.get()).as("longest wait of an urgent event, ms").isLessThan(1_500);
		assertThat(worstLazyMillis.get()).as("longest wait of an event that can wait, ms").isLessThan(1_500);
	}

	@Test
	void anInterruptedRelayThreadStopsSleeping() throws Exception {
		RelayQueue queue = new RelayQueue();
		CompletableFuture<Throwable> failure = new CompletableFuture<>();
		Thread relay = new Thread(() -> {
			try {
				queue.take(60_000);
				failure.complete(null);
			}
			catch (Throwable ex) {
				failure.complete(ex);
			}
		});
		relay.start();
		awaitSleeping(queue);
		relay.interrupt();
		assertThatExceptionOfType(InterruptedException.class)
			.isThrownBy(() -> {
				Throwable thrown = failure.get(10, TimeUnit.SECONDS);
				if (thrown != null) {
					throw thrown;
				}
			});
	}

	private static CompletableFuture<Long> takeInBackground(RelayQueue queue, long waitMillis) {
		CompletableFuture<Long> tookMillis = new CompletableFuture<>();
		Thread relay = new Thread(() -> {
			long started = System.nanoTime();
			try {
				List<Object> events = queue.take(waitMillis);
				assertThat(events).hasSize(1);
				tookMillis.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
			}
			catch (Throwable ex) {
				tookMillis.completeExceptionally(ex);
			}
		});
		relay.start();
		return tookMillis;
	}

	private static void awaitSleeping(RelayQueue queue) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (!queue.hasSleeper()) {
			assertThat(System.nanoTime()).as("the relay thread went to sleep").isLessThan(deadline);
			Thread.sleep(1);
		}
		Thread.sleep(20); // announced; now in (or about to enter) its sleep
	}

	private record Sent(int producer, int sequence, boolean urgent, long at) {
	}

}
