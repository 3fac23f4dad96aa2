package io.github.reliablekafka.dispatch;

import java.lang.reflect.Method;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * The worker side of a dispatcher: the threads its partitions' workers run on, and the worker loop, which takes a
 * ready lane's records, runs them in order with the consumer thread's MDC and observation, hands the results back to
 * the partition, and resumes partitions that went back below their bounds.
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

	private final ExecutorService threads;

	private volatile boolean closed;

	LaneWorkers(String listener, DispatchSettings settings, LaneHandler handler,
			Supplier<Collection<PartitionLanes>> partitions, AtomicLong bytesInFlight, PauseControl pauses) {
		this.listener = listener;
		this.settings = settings;
		this.handler = handler;
		this.partitions = partitions;
		this.bytesInFlight = bytesInFlight;
		this.pauses = pauses;
		ExecutorService virtual = settings.virtualThreads() ? virtualThreadExecutor() : null;
		if (virtual != null) {
			this.threads = virtual;
		}
		else {
			ThreadPoolExecutor pool = new ThreadPoolExecutor(settings.maxThreads(), settings.maxThreads(), 30,
					TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
					new CustomizableThreadFactory("rk-dispatch-" + listener + "-"));
			pool.allowCoreThreadTimeOut(true);
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
			state.workerGone(new PartitionLanes.Batch(0));
			throw new IllegalStateException("The dispatcher of listener '" + this.listener + "' is closed", ex);
		}
	}

	/**
	 * One worker of a partition: takes the next ready lane's records ({@value #TAKE} at most, see
	 * {@link PartitionLanes#turn}), runs them in order, and goes on until no lane is ready. After about
	 * {@value #BATCH_PER_TURN} records it gives the other partitions' workers a turn on the shared threads.
	 */
	void run(PartitionLanes state) {
		PartitionLanes.Batch batch = new PartitionLanes.Batch(TAKE);
		int processed = 0;
		try {
			while (state.turn(batch, processed >= BATCH_PER_TURN)) {
				for (int i = 0; i < batch.count; i++) {
					// a partition given up (or being given up) while this worker held its records: those it did
					// not start are delivered to the partition's next owner
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
			this.threads.execute(state.runner); // give other partitions' workers a turn on the shared threads
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

	/** Stop the threads, giving the records running up to the drain timeout. */
	void close() {
		this.closed = true;
		this.threads.shutdown();
		try {
			long millis = this.settings.drainTimeout().toMillis() + 1_000;
			if (!this.threads.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
				this.threads.shutdownNow();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.threads.shutdownNow();
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
