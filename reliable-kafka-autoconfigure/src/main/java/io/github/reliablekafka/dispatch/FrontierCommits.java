package io.github.reliablekafka.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import io.github.reliablekafka.internal.ThrottledLog;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.listener.ListenerMetadata;
import org.springframework.kafka.listener.OffsetAndMetadataProvider;

/**
 * Puts into every commit of a dispatched partition the offsets finished beyond its frontier, and gives a newly
 * assigned partition the offsets its previous owner finished, so that nothing finished is delivered again after a
 * stop, a rebalance or a restart (see {@link CommitMetadata} for the format).
 *
 * <p>
 * The container commits what the dispatcher acknowledged on its consumer thread and asks this provider for each
 * commit's offset and metadata, naming the offset but not the partition: the partition is the one whose
 * acknowledgement made that offset, on that consumer thread (a partition acknowledges an offset only while no other
 * partition of the same consumer waits for the commit of that offset). The provider commits that partition's frontier
 * (which may be ahead of the offset asked for, or behind it when the acknowledgement was of a record finished beyond
 * the frontier) with the offsets finished beyond it. Each entry of the metadata names its partition, and a reader takes
 * only its own.
 */
final class FrontierCommits implements OffsetAndMetadataProvider {

	private static final Logger logger = LoggerFactory.getLogger(FrontierCommits.class);

	private static final Duration COMMITTED_TIMEOUT = Duration.ofSeconds(10);

	/**
	 * Attempts of the library's calls on the consumer that a wake-up may interrupt (an application may wake the
	 * consumer, and spring-kafka does for immediate acknowledgements).
	 */
	private static final int WOKEN_ATTEMPTS = 3;

	private final String listener;

	private final Supplier<Collection<PartitionLanes>> assigned;

	/**
	 * Partitions given up whose acknowledgements the container may still commit, until the revocation's commit is
	 * done.
	 */
	private final Set<PartitionLanes> retired = ConcurrentHashMap.newKeySet();

	private final ThrottledLog cutLog;

	/** Whether a partition without a committed offset gets its position committed at assignment. */
	private volatile boolean commitOnAssignment = true;

	FrontierCommits(String listener, Supplier<Collection<PartitionLanes>> assigned) {
		this.listener = listener;
		this.assigned = assigned;
		this.cutLog = new ThrottledLog(logger, "Listener '" + listener + "': commit metadata cut to "
				+ CommitMetadata.MAX_LENGTH + " characters", Duration.ofMinutes(1));
	}

	/** Called by the container, on its consumer thread, for each partition it commits. */
	@Override
	public OffsetAndMetadata provide(ListenerMetadata metadata, long offset) {
		Thread thread = Thread.currentThread();
		List<PartitionLanes> states = null;
		for (PartitionLanes state : this.assigned.get()) {
			states = match(state, thread, offset, states);
		}
		for (PartitionLanes state : this.retired) {
			states = match(state, thread, offset, states);
		}
		if (states == null) {
			return new OffsetAndMetadata(offset);
		}
		// commit the partition's frontier: ahead of the offset asked for when the frontier moved on since, behind it
		// when the acknowledgement was of a record finished beyond the frontier. An offset is claimed by one
		// partition at a time (see PartitionLanes#acknowledge); were it ever claimed by two, the lower frontier is
		// committed, with each partition's finished offsets from there
		long commit = Long.MAX_VALUE;
		for (PartitionLanes state : states) {
			long position = state.position();
			commit = Math.min(commit, (position >= 0) ? position : offset);
		}
		List<CommitMetadata.Entry> entries = new ArrayList<>(states.size());
		for (PartitionLanes state : states) {
			entries.add(state.finishedFrom(commit));
		}
		return new OffsetAndMetadata(commit, encode(entries, states));
	}

	private static List<PartitionLanes> match(PartitionLanes state, Thread thread, long offset,
			List<PartitionLanes> matched) {
		if (state.consumer == thread && state.committing(offset)) {
			List<PartitionLanes> result = (matched != null) ? matched : new ArrayList<>(1);
			result.add(state);
			return result;
		}
		return matched;
	}

	private String encode(List<CommitMetadata.Entry> entries, List<PartitionLanes> states) {
		CommitMetadata.Encoded encoded = CommitMetadata.encode(entries);
		for (int i = 0; i < states.size(); i++) {
			states.get(i).commitMapSize = entries.get(i).finished().size();
		}
		if (encoded.leftOut() > 0) {
			this.cutLog.failed("the offsets finished beyond the commit frontier of " + entries.get(0).partition()
					+ " do not fit", encoded.leftOut() + " finished record(s) left out would be delivered again to the "
							+ "partition's next owner");
		}
		return encoded.text();
	}

	/**
	 * Set whether a partition assigned without a committed offset gets its current position committed (what
	 * spring-kafka's default {@code AssignmentCommitOption} does: a later owner then does not reset past records
	 * polled but not committed). The container's own assignment commit is turned off, because only commits of
	 * offsets this dispatcher acknowledged may pass through {@link #provide}.
	 * @param commit whether to commit
	 */
	void commitOnAssignment(boolean commit) {
		this.commitOnAssignment = commit;
	}

	/**
	 * Read the commits of newly assigned partitions: the offset committed and the offsets finished beyond it, which
	 * the partitions then skip. On the consumer thread, in the assignment callback.
	 * @param consumer the consumer
	 * @param states the assigned partitions' dispatch states
	 */
	void inherit(Consumer<?, ?> consumer, Collection<PartitionLanes> states) {
		if (states.isEmpty()) {
			return;
		}
		Set<TopicPartition> partitions = new HashSet<>();
		states.forEach((state) -> partitions.add(state.partition));
		Map<TopicPartition, OffsetAndMetadata> committed;
		try {
			committed = woken(() -> consumer.committed(partitions, COMMITTED_TIMEOUT));
		}
		catch (RuntimeException ex) {
			logger.warn("Listener '{}' could not read the commits of {} ({}); records the previous owner finished "
					+ "beyond its commit frontier will be delivered again", this.listener, partitions, ex.toString());
			return;
		}
		Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
		for (PartitionLanes state : states) {
			OffsetAndMetadata commit = (committed != null) ? committed.get(state.partition) : null;
			if (commit == null) {
				long position = this.commitOnAssignment ? position(consumer, state.partition) : -1;
				if (position >= 0) {
					positions.put(state.partition, new OffsetAndMetadata(position));
				}
				state.inherit(position, null);
				continue;
			}
			OffsetRuns finished = CommitMetadata.decode(commit.metadata(), state.partition, commit.offset());
			state.inherit(commit.offset(), finished);
			if (finished != null) {
				logger.info("Listener '{}': {} resumes at offset {}; {} record(s) beyond it were finished by its "
						+ "previous owner and will be skipped", this.listener, state.partition, commit.offset(),
						finished.size());
			}
		}
		if (!positions.isEmpty()) {
			commitPositions(consumer, positions);
		}
	}

	private void commitPositions(Consumer<?, ?> consumer, Map<TopicPartition, OffsetAndMetadata> positions) {
		try {
			woken(() -> {
				consumer.commitSync(positions, COMMITTED_TIMEOUT);
				return null;
			});
		}
		catch (RuntimeException ex) {
			logger.warn("Listener '{}' could not commit the starting positions of {} ({})", this.listener,
					positions.keySet(), ex.toString());
		}
	}

	private long position(Consumer<?, ?> consumer, TopicPartition partition) {
		try {
			return woken(() -> consumer.position(partition, COMMITTED_TIMEOUT));
		}
		catch (RuntimeException ex) {
			logger.warn("Listener '{}' could not read the position of {} ({})", this.listener, partition,
					ex.toString());
			return -1;
		}
	}

	/**
	 * Commit given-up partitions at their frontier, with what finished beyond it, on the consumer thread before the
	 * partitions go; keep them until the container's own commit after the revocation is done.
	 * @param consumer the consumer
	 * @param states the partitions given up, drained
	 * @return the partitions that could not be committed
	 */
	Set<TopicPartition> commitGivenUp(Consumer<?, ?> consumer, List<PartitionLanes> states) {
		Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
		for (PartitionLanes state : states) {
			this.retired.add(state);
			long position = state.position();
			if (position >= 0) {
				CommitMetadata.Entry entry = state.finishedFrom(position);
				offsets.put(state.partition, new OffsetAndMetadata(position, encode(List.of(entry), List.of(state))));
			}
		}
		if (offsets.isEmpty()) {
			return Set.of();
		}
		try {
			woken(() -> {
				consumer.commitSync(offsets, COMMITTED_TIMEOUT);
				return null;
			});
			return Set.of();
		}
		catch (RuntimeException ex) {
			logger.warn("Listener '{}' could not commit {} as it gave them up ({}); what finished since their last "
					+ "commit will be delivered again", this.listener, offsets.keySet(), ex.toString());
			return offsets.keySet();
		}
	}

	/** Call the consumer again when a wake-up meant for a blocked {@code poll} interrupted the call. */
	private static <T> T woken(Supplier<T> call) {
		for (int attempt = 1;; attempt++) {
			try {
				return call.get();
			}
			catch (WakeupException ex) {
				if (attempt >= WOKEN_ATTEMPTS) {
					throw ex;
				}
			}
		}
	}

	/** The revocation's commits are done on this thread: forget the partitions it gave up. */
	void revocationCommitted() {
		Thread thread = Thread.currentThread();
		this.retired.removeIf((state) -> {
			if (state.consumer == thread) {
				state.releaseClaims();
				return true;
			}
			return false;
		});
	}

}
