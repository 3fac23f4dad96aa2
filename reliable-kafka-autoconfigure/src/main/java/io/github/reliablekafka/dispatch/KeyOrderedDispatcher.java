package io.github.reliablekafka.dispatch;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.reliablekafka.support.LogText;
import io.github.reliablekafka.support.PartitionSeeker;
import io.github.reliablekafka.support.SeekCallbacks;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
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
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

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
 * partitions.
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
 * <p>
 * <b>Why over 400 lines:</b> it is one job, moving a partition's records from the consumer thread to the workers and
 * their results back to a committed frontier, and both sides lock the same {@link PartitionLanes} state; the
 * frontier, in-flight and pause rules are to move into {@code PartitionLanes} itself, as a change of its own.
 */
public final class KeyOrderedDispatcher implements AcknowledgingConsumerAwareMessageListener<String, byte[]>,
		ConsumerAwareRebalanceListener, ConsumerSeekAware, PartitionSeeker {

	private static final Logger logger = LoggerFactory.getLogger(KeyOrderedDispatcher.class);

	/**
	 * The longest poll timeout of a dispatching container: its consumer commits the workers' acknowledgements when
	 * its poll returns, so this bounds the time from a record's finishing to its commit (plus 20 ms of coalescing).
	 */
	public static final Duration MAX_POLL_TIMEOUT = Duration.ofMillis(200);

	private static final int BATCH_PER_TURN = 64;

	/** Records a worker takes from its lane at once. */
	private static final int TAKE = 16;

	private final String listener;

	private final DispatchSettings settings;

	private final LaneHandler handler;

	private final ObservationRegistry observations;

	private final DispatchObserver observer;

	private final @Nullable ConsumerAwareRebalanceListener next;

	private final Map<TopicPartition, PartitionLanes> partitions = new ConcurrentHashMap<>();

	private final AtomicLong bytesInFlight = new AtomicLong();

	private final ExecutorService lanes;

	private final ThreadPoolExecutor pool;

	private final PauseControl pauses;

	private volatile boolean closed;

	private final Map<TopicPartition, Long> lastFrontierWarning = new ConcurrentHashMap<>();

	private final SeekCallbacks seekCallbacks = new SeekCallbacks();

	private final FrontierCommits commits;

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

	/** A poll's workers are started early once this many wait. */
	private static final int MAX_DEFERRED_WORKERS = 256;

	private final ScheduledFuture<?> frontierChecks;

	private final ScheduledFuture<?> ackFlush;

	private static final ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "rk-dispatch-frontier-check");
		thread.setDaemon(true);
		return thread;
	});

	/**
	 * Create a dispatcher.
	 * @param listener the listener id, for logs, thread names and metrics
	 * @param settings its bounds
	 * @param handler processes each record, with retries and dead letters
	 * @param observations the container's observation registry, whose current observation travels to the lanes
	 * @param observer publishes gauges
	 * @param next the container's own rebalance listener, called after the dispatcher's; may be {@code null}
	 */
	public KeyOrderedDispatcher(String listener, DispatchSettings settings, LaneHandler handler,
			ObservationRegistry observations, DispatchObserver observer, @Nullable ConsumerAwareRebalanceListener next) {
		this.listener = listener;
		this.settings = settings;
		this.handler = handler;
		this.observations = observations;
		this.observer = observer;
		this.next = next;
		this.pauses = new PauseControl(listener);
		this.commits = new FrontierCommits(listener, this.partitions::values);
		ExecutorService virtual = settings.virtualThreads() ? virtualThreadExecutor() : null;
		if (virtual != null) {
			this.lanes = virtual;
			this.pool = null;
		}
		else {
			this.pool = new ThreadPoolExecutor(settings.maxThreads(), settings.maxThreads(), 30, TimeUnit.SECONDS,
					new LinkedBlockingQueue<>(), new CustomizableThreadFactory("rk-dispatch-" + listener + "-"));
			this.pool.allowCoreThreadTimeOut(true);
			this.lanes = this.pool;
		}
		observer.dispatcher(listener, this);
		long period = Math.max(1_000, Math.min(5_000, settings.frontierWarning().toMillis() / 2));
		this.frontierChecks = checks.scheduleWithFixedDelay(this::checkFrontiers, period, period, TimeUnit.MILLISECONDS);
		this.ackFlush = checks.scheduleWithFixedDelay(this::flushAcknowledgements, PartitionLanes.ACK_INTERVAL_NANOS,
				PartitionLanes.ACK_INTERVAL_NANOS, TimeUnit.NANOSECONDS);
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

	// --- consumer thread --------------------------------------------------------------------------------------------

	@Override
	public void onMessage(ConsumerRecord<String, byte[]> record, @Nullable Acknowledgment acknowledgment,
			@Nullable Consumer<?, ?> consumer) {
		if (acknowledgment == null) {
			throw new IllegalStateException("The dispatcher of listener '" + this.listener + "' needs AckMode.MANUAL");
		}
		TopicPartition partition = new TopicPartition(record.topic(), record.partition());
		PartitionLanes state = this.partitions.computeIfAbsent(partition, this::newState);
		Observation observation = this.observations.isNoop() ? null : this.observations.getCurrentObservation();
		DispatchedRecord task = new DispatchedRecord(record, acknowledgment, MDC.getCopyOfContextMap(), observation, size(record));
		int admitted = state.admit(task, state.lanes[laneOf(record, state.lanes.length)],
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
				schedule(state);
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
		return new RecordInterceptor<>() {

			@Override
			public ConsumerRecord<String, byte[]> intercept(ConsumerRecord<String, byte[]> record,
					Consumer<String, byte[]> consumer) {
				return record;
			}

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
				schedule(state);
			}
		}
		finally {
			deferred.clear();
		}
	}

	private void schedule(PartitionLanes state) {
		try {
			this.lanes.execute(state.runner);
		}
		catch (RejectedExecutionException ex) {
			state.workerGone(new PartitionLanes.Batch(0));
			throw new IllegalStateException("The dispatcher of listener '" + this.listener + "' is closed", ex);
		}
	}

	// --- replay in place ---------------------------------------------------------------------------------------------

	@Override
	public void registerSeekCallback(ConsumerSeekCallback callback) {
		this.seekCallbacks.register(callback);
	}

	@Override
	public void unregisterSeekCallback() {
		this.seekCallbacks.unregister();
	}

	@Override
	public void onPartitionsAssigned(Map<TopicPartition, Long> assignments, ConsumerSeekCallback callback) {
		this.seekCallbacks.assigned(assignments.keySet());
	}

	@Override
	public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
		this.seekCallbacks.revoked(partitions);
	}

	@Override
	public Set<TopicPartition> assignedPartitions() {
		Set<TopicPartition> assigned = new HashSet<>();
		this.seekCallbacks.partitions().forEach((partition) -> {
			PartitionLanes state = this.partitions.get(partition);
			if (state != null && state.owned) {
				assigned.add(partition);
			}
		});
		return assigned;
	}

	/**
	 * Replay a partition in place: stop dispatching its records, let those in flight finish (their frontier is
	 * acknowledged), then have the consumer seek; records polled before the seek are dropped, and dispatching starts
	 * over from the seek's first record.
	 */
	@Override
	public void seek(TopicPartition partition, long offset, Duration timeout) throws InterruptedException {
		PartitionLanes state = this.partitions.get(partition);
		ConsumerSeekCallback callback = this.seekCallbacks.of(partition);
		if (state == null || callback == null || !state.owned) {
			throw new IllegalStateException("Partition " + partition + " is not assigned to this instance");
		}
		synchronized (state) {
			state.replaying = true;
			state.seekTarget = -1;
			if (!state.awaitDrained(System.nanoTime() + timeout.toNanos())) {
				state.replaying = false;
				throw new IllegalStateException("Listener '" + this.listener + "': partition " + partition + " still has "
						+ state.inFlight + " record(s) in flight after " + timeout.toMillis() + " ms; not replayed");
			}
			state.acknowledgePending(System.nanoTime());
			state.replayFrom(offset);
			state.seekTarget = offset;
		}
		callback.seek(partition.topic(), partition.partition(), offset);
	}

	@Override
	public void onPartitionsRevokedBeforeCommit(Consumer<?, ?> consumer, Collection<TopicPartition> revoked) {
		logger.info("{}: partitions revoked: {}", group(consumer), revoked);
		give(consumer, revoked, true);
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
		give(consumer, lost, false);
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

	/**
	 * Give partitions up: stop feeding them and starting their records; when {@code drain}, let the records already
	 * running finish within the drain timeout and commit the frontier with the offsets finished beyond it (so the
	 * next owner skips them); forget them. Records that never started are delivered to the next owner.
	 */
	private void give(Consumer<?, ?> consumer, Collection<TopicPartition> given, boolean drain) {
		scheduleDeferred(); // nothing this thread dispatched may wait unscheduled while it drains
		long started = System.nanoTime();
		long deadline = started + (drain ? this.settings.drainTimeout().toNanos() : 0);
		List<PartitionLanes> states = new ArrayList<>();
		for (TopicPartition partition : given) {
			PartitionLanes state = this.partitions.get(partition);
			if (state != null) {
				states.add(state);
				synchronized (state) {
					state.stop(); // first for every partition: their running records finish in parallel
				}
			}
		}
		int[] abandoned = new int[states.size()];
		for (int i = 0; i < states.size(); i++) {
			PartitionLanes state = states.get(i);
			synchronized (state) {
				try {
					state.awaitDrained(deadline);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				abandoned[i] = state.abandon();
			}
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
			this.observer.partitionRevoked(this.listener, state.partition);
			this.lastFrontierWarning.remove(state.partition);
			state.paused = false;
			this.pauses.apply(state); // clears any pause request the container still holds for it
		}
	}

	private void logGivenUp(PartitionLanes state, int abandoned, boolean committed, long tookMillis) {
		int unfinished;
		int finishedBeyond;
		synchronized (state) {
			unfinished = state.held() - state.finishedBeyondFrontier;
			finishedBeyond = state.finishedBeyondFrontier;
		}
		String commit = committed ? "committed offset " + state.position() + " naming the " + finishedBeyond
				+ " record(s) finished beyond it, which will not be delivered again"
				: "not committed: what finished since its last commit will be delivered again";
		if (abandoned > 0) {
			logger.warn("Listener '{}' gave up partition {} after {} ms with {} record(s) still in flight, which may "
					+ "have had effects and will be delivered again; {} unfinished record(s) in all will come to its "
					+ "next owner; {}", this.listener, state.partition, tookMillis, abandoned, unfinished, commit);
		}
		else if (unfinished > 0 || finishedBeyond > 0 || state.skipped > 0) {
			logger.info("Listener '{}' handed partition {} over in {} ms: {} record(s) not started will come to its "
					+ "next owner; {}", this.listener, state.partition, tookMillis, unfinished, commit);
		}
	}

	// --- lanes ------------------------------------------------------------------------------------------------------

	/** Resume the paused partitions that are back below half of the bounds. */
	private void resumeBelowBounds() {
		if (this.bytesInFlight.get() >= this.settings.maxInFlightBytes() / 2) {
			return;
		}
		for (PartitionLanes each : this.partitions.values()) {
			if (!each.paused) {
				continue;
			}
			boolean resume;
			synchronized (each) {
				resume = each.paused && each.owned && each.held() <= this.settings.maxInFlightPerPartition() / 2;
				if (resume) {
					each.paused = false;
				}
			}
			if (resume) {
				this.pauses.apply(each);
			}
		}
	}

	/**
	 * One worker of a partition: takes the next ready lane's records ({@value #TAKE} at most, see
	 * {@link PartitionLanes#turn}), runs them in order, and goes on until no lane is ready. After about
	 * {@value #BATCH_PER_TURN} records it gives the other partitions' workers a turn on the shared threads.
	 */
	private void run(PartitionLanes state) {
		PartitionLanes.Batch batch = new PartitionLanes.Batch(TAKE);
		int processed = 0;
		try {
			while (state.turn(batch, processed >= BATCH_PER_TURN)) {
				for (int i = 0; i < batch.count; i++) {
					// a partition given up (or being given up) while this worker held its records: those it did not start
					// are delivered to the partition's next owner
					batch.done[i] = state.accepting() && !this.closed && process(state, batch.records[i]);
				}
				processed += batch.count;
				resumeBelowBounds();
			}
		}
		catch (RuntimeException | Error ex) {
			state.workerGone(batch);
			throw ex;
		}
		resumeBelowBounds();
		if (processed < BATCH_PER_TURN) {
			return; // no lane was ready: this worker ended
		}
		try {
			this.lanes.execute(state.runner); // give other partitions' workers a turn on the shared threads
		}
		catch (RejectedExecutionException ex) {
			state.workerGone(new PartitionLanes.Batch(0)); // closed
		}
	}

	private boolean process(PartitionLanes state, DispatchedRecord task) {
		Map<String, String> previous = MDC.getCopyOfContextMap();
		if (task.mdc != null) {
			MDC.setContextMap(task.mdc);
		}
		Observation.Scope scope = (task.observation != null) ? task.observation.openScope() : null;
		try {
			while (true) {
				try {
					return this.handler.handle(task.record, () -> state.accepting() && !this.closed);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return false;
				}
				catch (RuntimeException | Error ex) {
					// a handler finishes records itself (retries, dead letters); reaching here is a defect: hold the
					// record, never commit past it
					logger.error("Listener '{}': unexpected failure dispatching record {}-{}@{}; trying again in 1 s",
							this.listener, task.record.topic(), task.record.partition(), task.record.offset(), ex);
					if (!state.accepting() || this.closed) {
						return false;
					}
					try {
						Thread.sleep(1_000);
					}
					catch (InterruptedException interrupted) {
						Thread.currentThread().interrupt();
						return false;
					}
				}
			}
		}
		finally {
			if (scope != null) {
				scope.close();
			}
			if (previous != null) {
				MDC.setContextMap(previous);
			}
			else {
				MDC.clear();
			}
		}
	}

	// --- helpers ----------------------------------------------------------------------------------------------------

	private PartitionLanes newState(TopicPartition partition) {
		PartitionLanes state = new PartitionLanes(partition, this.settings.workers(), this.bytesInFlight, this::run,
				this.claims.computeIfAbsent(Thread.currentThread(), (thread) -> new ConcurrentHashMap<>()));
		this.observer.partitionAssigned(this.listener, partition, this::commitGap, this::commitMapSize);
		return state;
	}

	private int laneOf(ConsumerRecord<String, byte[]> record, int lanes) {
		if (lanes == 1) {
			return 0;
		}
		if (this.settings.ordering() == Ordering.KEY && record.key() != null) {
			return LaneHash.laneOf(record.key(), lanes);
		}
		return (int) (record.offset() % lanes);
	}

	private static int size(ConsumerRecord<String, byte[]> record) {
		return Math.max(0, record.serializedKeySize()) + Math.max(0, record.serializedValueSize()) + 64;
	}

	private void flushAcknowledgements() {
		long now = System.nanoTime();
		for (PartitionLanes state : this.partitions.values()) {
			synchronized (state) {
				state.acknowledgePending(now);
				state.acknowledgeBeyondFrontier(now);
			}
		}
	}

	/**
	 * Log (at most once a minute per partition) the record that holds a partition's frontier back when it is older
	 * than the warning threshold. Called periodically.
	 */
	public void checkFrontiers() {
		long now = System.nanoTime();
		for (PartitionLanes state : this.partitions.values()) {
			DispatchedRecord head;
			synchronized (state) {
				head = state.order.peekFirst();
			}
			if (head == null || now - head.dispatchedNanos < this.settings.frontierWarning().toNanos()) {
				continue;
			}
			Long last = this.lastFrontierWarning.get(state.partition);
			if (last != null && now - last < TimeUnit.MINUTES.toNanos(1)) {
				continue;
			}
			this.lastFrontierWarning.put(state.partition, now);
			logger.warn("Listener '{}': record {}@{} with key '{}' has held the commit frontier of {} back for {} s "
					+ "({} record(s) finished behind it wait to be committed)", this.listener, state.partition,
					head.record.offset(), LogText.of(head.record.key()), state.partition,
					TimeUnit.NANOSECONDS.toSeconds(now - head.dispatchedNanos), state.finishedBeyondFrontier);
		}
	}

	/** The id of the listener this dispatcher runs. */
	public String listener() {
		return this.listener;
	}

	/** Records dispatched and not finished, across the container's partitions. */
	public int inFlight() {
		int total = 0;
		for (PartitionLanes state : this.partitions.values()) {
			synchronized (state) {
				total += state.inFlight;
			}
		}
		return total;
	}

	/** Bytes of the records dispatched and not finished. */
	public long inFlightBytes() {
		return this.bytesInFlight.get();
	}

	/** The deepest lane's queue, across the container's partitions. */
	public int maxLaneDepth() {
		int max = 0;
		for (PartitionLanes state : this.partitions.values()) {
			max = Math.max(max, state.maxLaneDepth());
		}
		return max;
	}

	/** Seconds since the oldest unfinished record was dispatched; 0 when none. */
	public double oldestAgeSeconds() {
		long now = System.nanoTime();
		long oldest = 0;
		for (PartitionLanes state : this.partitions.values()) {
			oldest = Math.max(oldest, state.oldestUnfinishedNanos(now));
		}
		return oldest / 1e9;
	}

	/** Records of a partition finished beyond its commit frontier. */
	public int commitGap(TopicPartition partition) {
		PartitionLanes state = this.partitions.get(partition);
		if (state == null) {
			return 0;
		}
		synchronized (state) {
			return state.finishedBeyondFrontier;
		}
	}

	/** Offsets named as finished beyond a partition's commit frontier in the metadata of its latest commit. */
	public long commitMapSize(TopicPartition partition) {
		PartitionLanes state = this.partitions.get(partition);
		return (state != null) ? state.commitMapSize : 0;
	}

	/** Whether the dispatcher asked the container to pause a partition. */
	public boolean isPaused(TopicPartition partition) {
		PartitionLanes state = this.partitions.get(partition);
		return state != null && state.paused;
	}

	/**
	 * Stop the lanes (after the container stopped and gave its partitions up).
	 */
	public void close() {
		this.closed = true;
		this.claims.clear();
		this.frontierChecks.cancel(false);
		this.ackFlush.cancel(false);
		this.lanes.shutdown();
		try {
			if (!this.lanes.awaitTermination(this.settings.drainTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS)) {
				this.lanes.shutdownNow();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.lanes.shutdownNow();
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

	private static @Nullable ExecutorService virtualThreadExecutor() {
		try {
			Method method = Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
			return (ExecutorService) method.invoke(null);
		}
		catch (ReflectiveOperationException ex) {
			logger.info("reliable.kafka.consumer.dispatch.virtual-threads=true needs JDK 21+; using platform threads");
			return null;
		}
	}

}
