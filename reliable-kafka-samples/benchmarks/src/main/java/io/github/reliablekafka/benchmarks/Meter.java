package io.github.reliablekafka.benchmarks;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts processed records and times the span from the first to the last.
 */
final class Meter {

	private final int expected;

	private final AtomicInteger count = new AtomicInteger();

	private volatile long first;

	private volatile long last;

	private final CountDownLatch done = new CountDownLatch(1);

	Meter(int expected) {
		this.expected = expected;
	}

	void hit() {
		int n = this.count.incrementAndGet();
		long now = System.nanoTime();
		if (n == 1) {
			this.first = now;
		}
		if (n == this.expected) {
			this.last = now;
			this.done.countDown();
		}
	}

	/**
	 * Wait for every record.
	 * @return records per second, first to last
	 */
	double await(Duration timeout) throws InterruptedException {
		if (!this.done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
			throw new IllegalStateException("only " + this.count.get() + " of " + this.expected + " records within "
					+ timeout);
		}
		return (this.expected - 1) / ((this.last - this.first) / 1e9);
	}

	int count() {
		return this.count.get();
	}

}
