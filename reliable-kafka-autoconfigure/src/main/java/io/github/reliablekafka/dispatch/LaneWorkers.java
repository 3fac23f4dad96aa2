package io.github.reliablekafka.dispatch;

import java.util.Collection;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import io.micrometer.context.ContextSnapshot;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * The worker side of a dispatcher: the threads its partitions' workers run on (Spring's task executors: a pool of
 * {@code max-threads} platform threads, or a virtual thread per worker with {@code virtual-threads=true} on JDK 21+),
 * and the worker loop, which takes a ready lane's records, runs them in order in the consumer thread's context
 * ({@link RecordContext}), hands the results back to the partition, and resumes partitions that went back below their
 * bounds.
 */
final class LaneWorkers {

	private static final Logger logger = LoggerFactory.getLogger(LaneWorkers.class);

	/** Records a worker runs before it gives the other partitions' workers a turn on the shared threads. */
	private static final int BATCH_PER_TURN = 64;

	/** Records a worker takes from its lane at once. */
	private static final int TAKE = 16;

	private final String listener;

	private final DispatchSettings settings;

	private final LaneHandler handler;

	private final Supplier<Collection<PartitionLanes>> partitions;

	private final AtomicLong bytesInFlight;

	private final PauseControl pauses;

	private final Executor threads;

	/** The pool of platform threads, {@code null} with virtual threads. */
	private final @Nullable ThreadPoolTaskExecutor pool;

	/** The virtual threads, {@code null} with platform threads. */
	private final @Nullable SimpleAsyncTaskExecutor virtual;

	private volatile boolean closed;

	LaneWorkers(String listener, DispatchSettings settings, LaneHandler handler,
			Supplier<Collection<PartitionLanes>> partitions, AtomicLong bytesInFlight, PauseControl pauses) {
		this.listener = listener;
		this.settings = settings;
		this.handler = handler;
		this.partitions = partitions;
		this.bytesInFlight = bytesInFlight;
		this.pauses = pauses;
		long drainMillis = settings.drainTimeout().toMillis() + 1_000;
		this.virtual = settings.virtualThreads() ? virtualThreads(listener, drainMillis) : null;
		if (this.virtual != null) {
			this.pool = null;
			this.threads = this.virtual;
		}
		else {
			ThreadPoolTaskExecutor pool = new ThreadPoolTaskExecutor();
			pool.setCorePoolSize(settings.maxThreads());
			pool.setMaxPoolSize(settings.maxThreads());
			pool.setKeepAliveSeconds(30);
			pool.setAllowCoreThreadTimeOut(true);
			pool.setThreadNamePrefix("rk-dispatch-" + listener + "-");
			pool.setWaitForTasksToCompleteOnShutdown(true); // the records running get the drain time-out
			pool.setAwaitTerminationMillis(drainMillis);
			pool.initialize();
			this.pool = pool;
			this.threads = pool;
		}
	}

	/**
	 * Start a worker for a partition.
	 * @param state the partition
	 * @throws IllegalStateException when the workers are closed
	 */
	void start(PartitionLanes state) {
		try {
			this.threads.execute(state.runner);
		}
		catch (RejectedExecutionException ex) {
			state.workerGone(new LaneBatch(0));
			throw new IllegalStateException("The dispatcher of listener '" + this.listener + "' is closed", ex);
		}
	}

	/**
	 * One worker of a partition: takes the next ready lane's records ({@value #TAKE} at most, see
	 * {@link PartitionLanes#turn}), runs them in order, and goes on until no lane is ready. After about
	 * {@value #BATCH_PER_TURN} records it gives the other partitions' workers a turn on the shared threads.
	 */
	void run(PartitionLanes state) {
		LaneBatch batch = new LaneBatch(TAKE);
		int processed = 0;
		try {
			while (state.turn(batch, processed >= BATCH_PER_TURN)) {
				for (int i = 0; i < batch.count; i++) {
					// a partition given up (or being given up) while this worker held its records: those it did
					// not start are delivered to the partition's next owner
					batch.done[i] = state.accepting() && !this.closed && process(state, batch.records[i]);
				}
				this.handler.batchDone(); // before the next turn accounts for the batch
				processed += batch.count;
				resumeBelowBounds();
			}
		}
		catch (RuntimeException | Error ex) {
			try {
				this.handler.batchDone();
			}
			finally {
				state.workerGone(batch);
			}
			throw ex;
		}
		resumeBelowBounds();
		if (processed < BATCH_PER_TURN) {
			return; // no lane was ready: this worker ended
		}
		try {
			this.threads.execute(state.runner); // give other partitions' workers a turn on the shared threads
		}
		catch (RejectedExecutionException ex) {
			state.workerGone(new LaneBatch(0)); // closed
		}
	}

	private boolean process(PartitionLanes state, DispatchedRecord task) {
		ContextSnapshot.Scope scope = (task.context != null) ? task.context.setThreadLocals() : null;
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
				scope.close(); // the worker's own context back
			}
		}
	}

	/** Resume the paused partitions that are back below half of the bounds. */
	private void resumeBelowBounds() {
		if (this.bytesInFlight.get() >= this.settings.maxInFlightBytes() / 2) {
			return;
		}
		for (PartitionLanes each : this.partitions.get()) {
			if (each.paused && each.resumeBelow(this.settings.maxInFlightPerPartition() / 2)) {
				this.pauses.apply(each);
			}
		}
	}

	/** Stop the threads, giving the records running up to the drain timeout, then interrupting them. */
	void close() {
		this.closed = true;
		if (this.virtual != null) {
			this.virtual.close(); // waits for the workers running, up to the drain time-out
			return;
		}
		ThreadPoolTaskExecutor pool = this.pool;
		if (pool != null) {
			pool.shutdown();
			ThreadPoolExecutor executor = pool.getThreadPoolExecutor();
			if (!executor.isTerminated()) {
				executor.shutdownNow();
			}
		}
	}

	/** A virtual thread per worker, on JDK 21+; {@code null} (platform threads) before that. */
	private static @Nullable SimpleAsyncTaskExecutor virtualThreads(String listener, long drainMillis) {
		SimpleAsyncTaskExecutor executor = new SimpleAsyncTaskExecutor("rk-dispatch-" + listener + "-");
		try {
			executor.setVirtualThreads(true);
		}
		catch (UnsupportedOperationException ex) {
			logger.info("reliable.kafka.consumer.dispatch.virtual-threads=true needs JDK 21+; using platform threads");
			return null;
		}
		executor.setTaskTerminationTimeout(drainMillis);
		return executor;
	}

}
