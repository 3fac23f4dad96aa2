package io.github.reliablekafka.producer;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the producer's outcomes one after the other, in the order they came, off the Kafka client's I/O thread,
 * without a pool task per outcome: the I/O thread only queues an outcome (a lock-free offer), and the pool's one
 * thread, handed one task per burst, runs every outcome waiting until none is left. An outcome that throws is logged
 * and the next one runs.
 */
final class OutcomeThread implements Executor {

	private static final Logger logger = LoggerFactory.getLogger(ReliableKafkaTemplate.class);

	private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();

	/** Outcomes queued and not yet seen by a drain; the one that makes it leave 0 starts the drain. */
	private final AtomicInteger unseen = new AtomicInteger();

	private final Executor thread;

	/**
	 * Run outcomes on a pool.
	 * @param thread a pool of one thread; once it refuses tasks (closed), outcomes run on the thread that queues them
	 */
	OutcomeThread(Executor thread) {
		this.thread = thread;
	}

	@Override
	public void execute(Runnable outcome) {
		this.waiting.offer(outcome);
		if (this.unseen.getAndIncrement() == 0) {
			try {
				this.thread.execute(this::drain);
			}
			catch (RejectedExecutionException closed) {
				drain(); // no drain runs (the count was 0): this thread is the only one
			}
		}
	}

	private void drain() {
		int seen = 1;
		do {
			Runnable outcome;
			while ((outcome = this.waiting.poll()) != null) {
				try {
					outcome.run();
				}
				catch (RuntimeException | Error ex) {
					logger.error("A send outcome failed to be processed", ex);
				}
			}
			seen = this.unseen.addAndGet(-seen); // those queued meanwhile: another pass
		}
		while (seen != 0);
	}

}
