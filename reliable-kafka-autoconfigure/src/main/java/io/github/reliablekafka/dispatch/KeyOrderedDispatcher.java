package io.github.reliablekafka.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.github.reliablekafka.internal.PartitionSeeker;
import io.github.reliablekafka.internal.PollEndInterceptor;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import org.springframework.kafka.listener.AcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.ConsumerAwareRebalanceListener;
import org.springframework.kafka.listener.ConsumerSeekAware;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.listener.OffsetAndMetadataProvider;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Hands the records of each assigned partition to worker lanes and acknowledges, per partition, only the highest
 * record below which every record finished: the contiguous frontier.
 *
 * <p>
 * It is the message listener of a spring-kafka container in {@code MANUAL} acknowledgement mode, so the container
 * keeps polling, committing (on its consumer thread, at most one poll timeout after an acknowledgement; a partition's
 * acknowledgements are coalesced to one per 20 ms), rebalancing,
 * observing and stopping as usual. {@link #onMessage} runs on the consumer thread and never blocks: it appends the
 * record to its key's lane and returns. Each partition has {@code workers} workers and four lanes per worker (see
 * {@link PartitionLanes}); a worker takes the next lane that has records, runs one of them and hands the lane back,
 * so a lane's records (and so a key's) run one at a time, in offset order, while up to {@code workers} lanes of the
 * partition run in parallel. Workers run on a pool of at most {@code max-threads} threads shared by the container's
 * partitions ({@link LaneWorkers}); the state of each partition and every rule over it are {@link PartitionLanes}'.
 *
 * <p>
 * <b>Back-pressure:</b> a partition holding more than {@code max-in-flight-per-partition} records (queued, running, or
 * finished behind one that is not: they are held until the frontier passes them), or a container with
 * more than {@code max-in-flight-bytes}, dispatched and unfinished is paused through the container (the consumer
 * keeps polling, so it stays in its group) and resumed below half of those bounds. The bounds can be exceeded by at
 * most one poll ({@code max.poll.records}).
 *
 * <p>
 * <b>Rebalance and shutdown:</b> a revoked partition stops being fed and starts nothing more; the records already
 * running get up to {@code drain-timeout} to finish; then its frontier is committed with the records finished beyond
 * it (see {@link FrontierCommits}), which its next owner skips; what never started is delivered to the next owner.
 * Records still running after {@code drain-timeout} are given up with a WARN (redelivered; the idempotency guard skips
 * what already ran). Results arriving later for a partition this consumer no longer owns are ignored. A lost
 * partition (its commit is impossible) is dropped at once.
 *
 * <p>
 * <b>Commits:</b> every commit the container makes for a partition names the records finished beyond its frontier
 * in the commit's metadata, so that after a crash only what finished since the last commit comes again.
 *
 */
public final class KeyOrderedDispatcher implements AcknowledgingConsumerAwareMessageListener<String, byte[]>,
		ConsumerAwareRebalanceListener, ConsumerSeekAware, PartitionSeeker {

	private static final Logger logger = LoggerFactory.getLogger(KeyOrderedDispatcher.class);

	/**
	 * The longest poll timeout of a dispatching container: its consumer commits the workers' acknowledgements when
	 * its poll returns, so this bounds the time from a record's finishing to its commit (plus 20 ms of coalescing).
	 */
	public static final Duration MAX_POLL_TIMEOUT = Duration.ofMillis(200);

	/** A poll's workers are started early once this many wait. */
	private static final int MAX_DEFERRED_WORKERS = 256;

	private final String listener;

	private final DispatchSettings settings;

	private final RecordContext context = new RecordContext();

	private final DispatchObserver observer;

	private final @Nullable ConsumerAwareRebalanceListener next;

	private final Map<TopicPartition, PartitionLanes> partitions = new ConcurrentHashMap<>();

	private final AtomicLong bytesInFlight = new AtomicLong();

	private final PauseControl pauses;

	private final LaneWorkers workers;

	private final FrontierCommits commits;

	private final ReplayInPlace replay;

	private final DispatchMonitor monitor;

	private final HandOver handOver;

	/** Per consumer thread, the commit offsets its partitions acknowledged and wait to see committed. */
	private final Map<Thread, Map<Long, PartitionLanes>> claims = new ConcurrentHashMap<>();

	/**
	 * Workers to start for the current poll's records, per consumer thread (one entry per worker, naming its
	 * partition): they are handed to the threads once, at the end of the poll (see {@link #pollBoundary()}), not one
	 * wake-up per record.
	 */
	private final ThreadLocal<List<PartitionLanes>> toSchedule = ThreadLocal.withInitial(ArrayList::new);

	/** Whether the container tells the end of each poll; until then every worker is started at once. */
	private volatile boolean pollBoundaryKnown;

	/**
	 * The dispatcher's timers on one thread ({@code rk-dispatch-<listener>-checks-1}): the frontier checks and the
	 * acknowledgement flush. A failing run is logged and the next one runs.
	 */
	private final ThreadPoolTaskScheduler checks;

	/**
	 * Create a dispatcher.
	 * @param listener the listener id, for logs, thread names and metrics
	 * @param settings its bounds
	 * @param handler processes each record, with retries and dead letters
	 * @param observer publishes gauges
	 * @param next the container's own rebalance listener, called after the dispatcher's; may be {@code null}
	 */
	public KeyOrderedDispatcher(String listener, DispatchSettings settings, LaneHandler handler,
			DispatchObserver observer, @Nullable ConsumerAwareRebalanceListener next) {
		this.listener = listener;
		this.settings = settings;
		this.observer = observer;
		this.next = next;
		this.pauses = new PauseControl(listener);
		this.workers = new LaneWorkers(listener, settings, handler, this.partitions::values, this.bytesInFlight,
				this.pauses);
		this.commits = new FrontierCommits(listener, this.partitions::values);
		this.replay = new ReplayInPlace(listener, this.partitions::get);
		this.monitor = new DispatchMonitor(listener, settings, this.partitions, this.bytesInFlight);
		this.handOver = new HandOver(listener, settings, this.partitions, this.commits, this.pauses,
				(partition) -> {
					observer.partitionRevoked(listener, partition);
					this.monitor.forget(partition);
				});
		observer.dispatcher(listener, this.monitor);
		long period = Math.max(1_000, Math.min(5_000, settings.frontierWarning().toMillis() / 2));
		this.checks = new ThreadPoolTaskScheduler();
		this.checks.setThreadNamePrefix("rk-dispatch-" + listener + "-checks-");
		this.checks.setDaemon(true);
		this.checks.initialize();
		Duration checkPeriod = Duration.ofMillis(period);
		this.checks.scheduleWithFixedDelay(this.monitor::checkFrontiers, Instant.now().plus(checkPeriod), checkPeriod);
		Duration flushPeriod = Duration.ofNanos(PartitionFrontier.ACK_INTERVAL_NANOS);
		this.checks.scheduleWithFixedDelay(this::flushAcknowledgements, Instant.now().plus(flushPeriod), flushPeriod);
	}

	/**
	 * Return what the container must use to build its commits: it adds the offsets finished beyond each partition's
	 * frontier to the commit's metadata. Set it as the container's {@code OffsetAndMetadataProvider}.
	 * @return the provider
	 */
	public OffsetAndMetadataProvider commitMetadata() {
		return this.commits;
	}

	/**
	 * Set whether a partition assigned without a committed offset gets its position committed, as spring-kafka's
	 * default {@code AssignmentCommitOption} does; the container's own assignment commit must be off (set it to
	 * {@code NEVER}), because the dispatcher recognises only the commits of offsets it acknowledged.
	 * @param commit whether to commit
	 */
	public void commitOnAssignment(boolean commit) {
		this.commits.commitOnAssignment(commit);
	}

	/**
	 * Bind the container whose partitions this dispatcher pauses and resumes.
	 * @param container the container
	 */
	public void bind(MessageListenerContainer container) {
		this.pauses.bind(container);
	}

	/**
	 * Return what the dispatcher's gauges and the actuator endpoint read.
	 * @return the monitor
	 */
	public DispatchMonitor monitor() {
		return this.monitor;
	}

	/** The id of the listener this dispatcher runs. */
	public String listener() {
		return this.listener;
	}

	// --- consumer thread --------------------------------------------------------------------------------------------

	@Override
	public void onMessage(ConsumerRecord<String, byte[]> record, @Nullable Acknowledgment acknowledgment,
			@Nullable Consumer<?, ?> consumer) {
		if (acknowledgment == null) {
			throw new IllegalStateException("The dispatcher of listener '" + this.listener + "' needs AckMode.MANUAL");
		}
		TopicPartition partition = new TopicPartition(record.topic(), record.partition());
		PartitionLanes state = this.partitions.computeIfAbsent(partition, this::newState);
		DispatchedRecord task = new DispatchedRecord(record, acknowledgment, this.context.capture(),
				DispatchedRecord.size(record));
		int lane = LaneHash.laneOf(record, this.settings.ordering(), state.lanes().length);
		int admitted = state.admit(task, state.lanes()[lane],
				this.settings.maxInFlightPerPartition(), this.settings.maxInFlightBytes());
		if ((admitted & PartitionLanes.START_WORKER) != 0) {
			if (this.pollBoundaryKnown) {
				List<PartitionLanes> deferred = this.toSchedule.get();
				deferred.add(state);
				if (deferred.size() >= MAX_DEFERRED_WORKERS) {
					scheduleDeferred();
				}
			}
			else {
				this.workers.start(state);
			}
		}
		if ((admitted & PartitionLanes.PAUSE) != 0) {
			this.pauses.apply(state);
		}
	}

	/**
	 * Return the record interceptor that tells this dispatcher where each poll's records end, so that the lanes that
	 * got work are handed to the threads once per poll. Set it as the container's record interceptor; it passes every
	 * record through unchanged.
	 * @return the interceptor
	 */
	public RecordInterceptor<String, byte[]> pollBoundary() {
		this.pollBoundaryKnown = true;
		return new PollEndInterceptor() {

			@Override
			public void clearThreadState(Consumer<?, ?> consumer) {
				scheduleDeferred();
			}

		};
	}

	/** Start the workers that this thread's current poll asked for. */
	private void scheduleDeferred() {
		List<PartitionLanes> deferred = this.toSchedule.get();
		if (deferred.isEmpty()) {
			return;
		}
		try {
			for (PartitionLanes state : deferred) {
				this.workers.start(state);
			}
		}
		finally {
			deferred.clear();
		}
	}

	// --- replay in place ---------------------------------------------------------------------------------------------

	@Override
	public void registerSeekCallback(ConsumerSeekCallback callback) {
		this.replay.callbacks().register(callback);
	}

	@Override
	public void unregisterSeekCallback() {
		this.replay.callbacks().unregister();
	}

	@Override
	public void onPartitionsAssigned(Map<TopicPartition, Long> assignments, ConsumerSeekCallback callback) {
		this.replay.callbacks().assigned(assignments.keySet());
	}

	@Override
	public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
		this.replay.revoked(partitions);
	}

	@Override
	public Set<TopicPartition> assignedPartitions() {
		return this.replay.assignedPartitions();
	}

	/**
	 * Replay a partition in place (see {@link ReplayInPlace}).
	 */
	@Override
	public void seek(TopicPartition partition, long offset, Duration timeout) throws InterruptedException {
		this.replay.seek(partition, offset, timeout);
	}

	// --- rebalance ---------------------------------------------------------------------------------------------------

	@Override
	public void onPartitionsRevokedBeforeCommit(Consumer<?, ?> consumer, Collection<TopicPartition> revoked) {
		logger.info("{}: partitions revoked: {}", group(consumer), revoked);
		scheduleDeferred(); // nothing this thread dispatched may wait unscheduled while it drains
		this.handOver.give(consumer, revoked, true);
		if (this.next != null) {
			this.next.onPartitionsRevokedBeforeCommit(consumer, revoked);
		}
	}

	@Override
	public void onPartitionsRevokedAfterCommit(Consumer<?, ?> consumer, Collection<TopicPartition> revoked) {
		this.commits.revocationCommitted();
		if (this.next != null) {
			this.next.onPartitionsRevokedAfterCommit(consumer, revoked);
		}
	}

	@Override
	public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> lost) {
		logger.info("{}: partitions lost: {}", group(consumer), lost);
		scheduleDeferred();
		this.handOver.give(consumer, lost, false);
		if (this.next != null) {
			this.next.onPartitionsLost(consumer, lost);
		}
	}

	@Override
	public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> assigned) {
		logger.info("{}: partitions assigned: {}", group(consumer), assigned);
		this.pauses.refreshChildren();
		List<PartitionLanes> states = new ArrayList<>(assigned.size());
		for (TopicPartition partition : assigned) {
			PartitionLanes state = this.partitions.computeIfAbsent(partition, this::newState);
			states.add(state);
			this.pauses.apply(state); // a pause request left from an earlier owner would otherwise stall it
		}
		this.commits.inherit(consumer, states);
		if (this.next != null) {
			this.next.onPartitionsAssigned(consumer, assigned);
		}
	}

	// --- helpers ----------------------------------------------------------------------------------------------------

	private PartitionLanes newState(TopicPartition partition) {
		PartitionLanes state = new PartitionLanes(partition, this.settings.workers(), this.bytesInFlight,
				this.workers::run,
				this.claims.computeIfAbsent(Thread.currentThread(), (thread) -> new ConcurrentHashMap<>()));
		this.observer.partitionAssigned(this.listener, partition, this.monitor::commitGap, this.monitor::commitMapSize);
		return state;
	}

	private void flushAcknowledgements() {
		long now = System.nanoTime();
		for (PartitionLanes state : this.partitions.values()) {
			state.flushAcknowledgements(now);
		}
	}

	private static String group(Consumer<?, ?> consumer) {
		try {
			return consumer.groupMetadata().groupId();
		}
		catch (RuntimeException ex) {
			return "(group unknown)";
		}
	}

	/**
	 * Stop the lanes (after the container stopped and gave its partitions up).
	 */
	public void close() {
		this.claims.clear();
		this.checks.shutdown();
		this.workers.close();
	}

}
