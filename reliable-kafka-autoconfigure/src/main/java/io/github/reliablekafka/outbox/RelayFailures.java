package io.github.reliablekafka.outbox;

import java.time.Duration;

import io.github.reliablekafka.internal.KafkaErrors;
import io.github.reliablekafka.internal.ThrottledLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's failures and the wait they impose on its loop (relay thread only): after a failure the loop waits the
 * poll interval, twice as long after each failure in a row, at most {@link #MAX_BACKOFF_MILLIS} (or the poll interval
 * when it is longer). While the database cannot be reached it logs one line per cause a minute, with a count.
 */
final class RelayFailures {

	private static final Logger logger = LoggerFactory.getLogger(OutboxRelay.class);

	/** The longest wait between two steps while the relay keeps failing. */
	static final long MAX_BACKOFF_MILLIS = 5_000;

	private final ThrottledLog log = new ThrottledLog(logger, "Outbox relay", Duration.ofMinutes(1));

	private final long pollMillis;

	private long backOffUntil;

	private int inARow;

	RelayFailures(Duration pollInterval) {
		this.pollMillis = pollInterval.toMillis();
	}

	/** Something failed: report it and back off. */
	void failed(String what, Throwable failure) {
		this.log.failed(what + ": " + KafkaErrors.describe(failure), "retrying in " + backOff() + " ms");
	}

	/** An error (not an exception) failed a step: report it with its stack trace and back off. */
	void failedWithError(Error error) {
		logger.error("Outbox relay step failed with an error; retrying in {} ms", backOff(), error);
	}

	/** A claim succeeded: the failures in a row are over. */
	void succeeded() {
		this.inARow = 0;
		this.log.succeeded("Outbox relay claims rows again");
	}

	/** Return until when the loop waits, or a time in the past. */
	long backOffUntil() {
		return this.backOffUntil;
	}

	private long backOff() {
		long wait = Math.max(this.pollMillis,
				Math.min(this.pollMillis << Math.min(this.inARow, 10), MAX_BACKOFF_MILLIS));
		this.inARow++;
		this.backOffUntil = System.currentTimeMillis() + wait;
		return wait;
	}

}
