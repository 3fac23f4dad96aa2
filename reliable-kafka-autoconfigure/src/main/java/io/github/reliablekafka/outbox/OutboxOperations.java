package io.github.reliablekafka.outbox;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * What an operator can do with the outbox: see what failed, and put it back in line.
 */
public interface OutboxOperations {

	/**
	 * List failed rows, oldest first.
	 * @param limit the most to return
	 * @return the rows
	 */
	List<OutboxMessage> failed(int limit);

	/**
	 * Put failed rows back in line: they become {@code NEW} with no attempts, due now, and are published in their
	 * key's order.
	 * @param ids the row ids
	 * @return how many rows were re-queued
	 */
	int requeue(Collection<Long> ids);

	/**
	 * Put every failed row back in line.
	 * @return how many rows were re-queued
	 */
	int requeueAllFailed();

	/**
	 * Find a row by message id.
	 * @param messageId the {@code rk-id}
	 * @return the row, while it is retained
	 */
	Optional<OutboxMessage> find(String messageId);

	/**
	 * Count the rows not yet confirmed.
	 * @return the number of {@code NEW} rows
	 */
	long pendingCount();

	/**
	 * Count the rows due and not yet confirmed: {@code NEW} rows whose delivery time has come (a delayed message
	 * counts from its due time on). The default, for an implementation that does not know due times, counts every
	 * unconfirmed row.
	 * @return the number of due {@code NEW} rows
	 */
	default long dueCount() {
		return pendingCount();
	}

	/**
	 * Return how long the row that waits longest for its confirmation has waited since it was due: since it was
	 * written, or since its due time for a delayed message. Rows not due yet do not count.
	 * @return its age, zero when no due row is pending
	 */
	Duration oldestPendingAge();

}
