package io.github.reliablekafka.outbox;

import java.time.Duration;

import io.github.reliablekafka.internal.RetryBackoff;

/**
 * How an {@link OutboxRelay} works.
 *
 * @param publishMode who publishes committed rows
 * @param pollInterval how often the relay looks for due rows when nothing wakes it sooner
 * @param batchSize the most rows one claim takes
 * @param lease how long a claim holds rows; renewed while they are published
 * @param retry the back-off between attempts, and the attempts before a row fails for good
 * @param onFailed what a failed row does to its key's later rows
 * @param retention how long confirmed rows are kept
 * @param confirmTimeout how long a send's future waits for Kafka's confirmation before it fails with
 * {@link OutboxPendingException} (the row stays and is still published)
 */
public record OutboxRelaySettings(PublishMode publishMode, Duration pollInterval, int batchSize, Duration lease,
		RetryBackoff retry, OnFailed onFailed, Duration retention, Duration confirmTimeout) {

	/**
	 * Return whether a {@code FAILED} row holds its key's later rows.
	 * @return whether failed rows block
	 */
	public boolean failedBlocks() {
		return this.onFailed == OnFailed.BLOCK;
	}

}
