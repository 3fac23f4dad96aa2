package io.github.reliablekafka.dispatch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives partitions up when they are revoked, lost, or the consumer stops: nothing more starts, the running records
 * finish (within the drain time-out), the frontier is committed with the records finished beyond it, and what never
 * started is left for the next owner. Runs on the consumer thread, in the rebalance callbacks.
 */
final class HandOver {

	private static final Logger logger = LoggerFactory.getLogger(KeyOrderedDispatcher.class);

	private final String listener;

	private final DispatchSettings settings;

	private final Map<TopicPartition, PartitionLanes> partitions;

	private final FrontierCommits commits;

	private final PauseControl pauses;

	private final Consumer<TopicPartition> forgotten;

	HandOver(String listener, DispatchSettings settings, Map<TopicPartition, PartitionLanes> partitions,
			FrontierCommits commits, PauseControl pauses, Consumer<TopicPartition> forgotten) {
		this.listener = listener;
		this.settings = settings;
		this.partitions = partitions;
		this.commits = commits;
		this.pauses = pauses;
		this.forgotten = forgotten;
	}

	/**
	 * Give partitions up: stop feeding them and starting their records; when {@code drain}, let the records already
	 * running finish within the drain timeout and commit the frontier with the offsets finished beyond it (so the
	 * next owner skips them); forget them. Records that never started are delivered to the next owner.
	 */
	void give(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer, Collection<TopicPartition> given,
			boolean drain) {
		long started = System.nanoTime();
		long deadline = started + (drain ? this.settings.drainTimeout().toNanos() : 0);
		List<PartitionLanes> states = new ArrayList<>();
		for (TopicPartition partition : given) {
			PartitionLanes state = this.partitions.get(partition);
			if (state != null) {
				states.add(state);
				state.stop(); // first for every partition: their running records finish in parallel
			}
		}
		int[] abandoned = new int[states.size()];
		for (int i = 0; i < states.size(); i++) {
			abandoned[i] = states.get(i).drainAndGiveUp(deadline);
		}
		Set<TopicPartition> uncommitted = drain ? this.commits.commitGivenUp(consumer, states) : Set.of();
		if (!drain) {
			states.forEach(PartitionLanes::releaseClaims); // lost: no commit of it will succeed
		}
		long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
		for (int i = 0; i < states.size(); i++) {
			PartitionLanes state = states.get(i);
			logGivenUp(state, abandoned[i], drain && !uncommitted.contains(state.partition), tookMillis);
			this.partitions.remove(state.partition, state);
			this.forgotten.accept(state.partition);
			state.paused = false;
			this.pauses.apply(state); // clears any pause request the container still holds for it
		}
	}

	private void logGivenUp(PartitionLanes state, int abandoned, boolean committed, long tookMillis) {
		int unfinished = state.unfinished();
		int finishedBeyond = state.finishedBeyondFrontier();
		String commit = committed ? "committed offset " + state.position() + " naming the " + finishedBeyond
				+ " record(s) finished beyond it, which will not be delivered again"
				: "not committed: what finished since its last commit will be delivered again";
		if (abandoned > 0) {
			logger.warn("Listener '{}' gave up partition {} after {} ms with {} record(s) still in flight, which may "
					+ "have had effects and will be delivered again; {} unfinished record(s) in all will come to its "
					+ "next owner; {}", this.listener, state.partition, tookMillis, abandoned, unfinished, commit);
		}
		else if (unfinished > 0 || finishedBeyond > 0 || state.skipped() > 0) {
			logger.info("Listener '{}' handed partition {} over in {} ms: {} record(s) not started will come to its "
					+ "next owner; {}", this.listener, state.partition, tookMillis, unfinished, commit);
		}
	}

}
