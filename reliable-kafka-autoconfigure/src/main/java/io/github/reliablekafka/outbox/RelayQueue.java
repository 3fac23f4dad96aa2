package io.github.reliablekafka.outbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

/**
 * The relay thread's inbox. An event is either <em>urgent</em> (a claim's rows, a request to look for due rows, Kafka's
 * answer for a key with rows queued behind it): it wakes the relay thread if that sleeps; or it <em>can wait</em> (a
 * commit, which joins the next admission's window anyway; Kafka's answer for a key with nothing queued behind it; a
 * mark written): it is queued, and the relay thread is woken for it only when it would otherwise sleep more than
 * {@link #LAZY_NANOS} beyond the event's arrival. With thousands of commits and confirmations a second, the relay
 * thread then wakes a few dozen times a second and takes them in batches, instead of once per event; and the threads
 * that hand events over (the application's, the producer's network thread) do not wake it each time.
 *
 * <p>
 * Any number of threads may add events; one thread, the relay's, takes them.
 */
final class RelayQueue {

	/** The longest an event that can wait is left in the queue while the relay thread sleeps. */
	static final long LAZY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	private final Queue<Object> events = new ConcurrentLinkedQueue<>();

	/** Whether an urgent event came since the relay thread last took the queue. */
	private volatile boolean wakeRequested;

	/** The relay thread while it sleeps, else {@code null}. */
	private volatile @Nullable Thread sleeper;

	/** Until when (System.nanoTime) the sleeper sleeps unless woken; read only while {@link #sleeper} is set. */
	private volatile long sleepsUntil;

	/** How often a thread that added an event woke the sleeper. */
	private final AtomicLong wakeUps = new AtomicLong();

	/**
	 * Add an event that must be handled at once.
	 * @param event the event
	 */
	void urgent(Object event) {
		this.events.add(event);
		this.wakeRequested = true;
		Thread thread = this.sleeper;
		if (thread != null) {
			wake(thread);
		}
	}

	/**
	 * Add an event that may wait up to {@link #LAZY_NANOS} for the relay thread's next turn.
	 * @param event the event
	 */
	void lazy(Object event) {
		this.events.add(event);
		Thread thread = this.sleeper;
		if (thread != null && this.sleepsUntil - System.nanoTime() > LAZY_NANOS) {
			wake(thread);
		}
	}

	private void wake(Thread thread) {
		this.wakeUps.incrementAndGet();
		LockSupport.unpark(thread);
	}

	/**
	 * Return how often a thread that added an event woke the relay thread.
	 * @return the count since this queue was made
	 */
	long wakeUps() {
		return this.wakeUps.get();
	}

	/**
	 * Whether the relay thread sleeps in {@link #take} now.
	 * @return whether it announced its sleep and has not woken yet
	 */
	boolean hasSleeper() {
		return this.sleeper != null;
	}

	/**
	 * Take every queued event, sleeping first when there is none: until an urgent event comes, {@code waitMillis}
	 * have passed, or an event that can wait has waited its turn. The relay thread only.
	 * @param waitMillis the longest to sleep
	 * @return the events in the order they came; empty when none came
	 * @throws InterruptedException if the relay thread is interrupted while it sleeps
	 */
	List<Object> take(long waitMillis) throws InterruptedException {
		List<Object> batch = drain();
		if (!batch.isEmpty() || waitMillis <= 0) {
			return batch;
		}
		return sleepThenTake(waitMillis);
	}

	/**
	 * The second half of {@link #take}, after the relay thread found nothing: announce the sleep, look again (an
	 * event added between the first look and the announcement did not see the sleeper), sleep, take.
	 * @param waitMillis the longest to sleep
	 * @return the events in the order they came; empty when none came
	 * @throws InterruptedException if the relay thread is interrupted while it sleeps
	 */
	List<Object> sleepThenTake(long waitMillis) throws InterruptedException {
		long now = System.nanoTime();
		long deadline = now + TimeUnit.MILLISECONDS.toNanos(waitMillis);
		this.sleepsUntil = deadline;
		this.sleeper = Thread.currentThread();
		try {
			// announced as sleeping, look again: an event added before the announcement did not see it
			if (this.wakeRequested) {
				return drain();
			}
			if (!this.events.isEmpty()) {
				deadline = Math.min(deadline, now + LAZY_NANOS);
				this.sleepsUntil = deadline;
			}
			LockSupport.parkNanos(this, deadline - System.nanoTime());
		}
		finally {
			this.sleeper = null;
		}
		if (Thread.interrupted()) {
			throw new InterruptedException();
		}
		return drain();
	}

	private List<Object> drain() {
		this.wakeRequested = false;
		List<Object> batch = new ArrayList<>();
		Object event;
		while ((event = this.events.poll()) != null) {
			batch.add(event);
		}
		return batch;
	}

}
