package io.github.reliablekafka.autoconfigure.consumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.autoconfigure.RetryProperties;

import io.github.reliablekafka.consumer.NullPayload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of reliable listeners ({@code @ReliableListener}). The Kafka consumer itself is configured under
 * {@code spring.kafka.consumer.*} and {@code spring.kafka.listener.*}.
 */
@ConfigurationProperties("reliable.kafka.consumer")
public class ReliableKafkaConsumerProperties {

	/**
	 * What to do with a record whose value is null (a tombstone) or empty: skip (logged with its topic, partition
	 * and offset), dead-letter, or deliver.
	 */
	private NullPayload nullPayload = NullPayload.SKIP;

	private final Retry retry = new Retry();

	private final DeadLetter deadLetter = new DeadLetter();

	private final Dispatch dispatch = new Dispatch();

	private final Share share = new Share();

	public NullPayload getNullPayload() {
		return this.nullPayload;
	}

	public void setNullPayload(NullPayload nullPayload) {
		this.nullPayload = nullPayload;
	}

	public Retry getRetry() {
		return this.retry;
	}

	public Dispatch getDispatch() {
		return this.dispatch;
	}

	public Share getShare() {
		return this.share;
	}

	public DeadLetter getDeadLetter() {
		return this.deadLetter;
	}

	/**
	 * Retries of a record whose listener failed.
	 */
	public static class Retry extends RetryProperties {

		public Retry() {
			super(3, Duration.ofSeconds(1), 2.0, Duration.ofSeconds(30));
		}

		/**
		 * Exception types that send a record to the dead-letter topic at once, without retries, in addition to
		 * NonRetryableException and payloads that cannot be read.
		 */
		private List<Class<? extends Throwable>> nonRetryable = new ArrayList<>();

		public List<Class<? extends Throwable>> getNonRetryable() {
			return this.nonRetryable;
		}

		public void setNonRetryable(List<Class<? extends Throwable>> nonRetryable) {
			this.nonRetryable = nonRetryable;
		}

	}

	/**
	 * The dead-letter topic of a record that could not be processed.
	 */
	public static class DeadLetter {

		/**
		 * Suffix appended to a record's topic to name its dead-letter topic.
		 */
		private String suffix = ".DLT";

		/**
		 * Longest exception message a dead letter's header keeps; a longer one is cut.
		 */
		private DataSize maxExceptionMessage = DataSize.ofKilobytes(4);

		/**
		 * Longest stack trace a dead letter's header keeps; a longer one is cut.
		 */
		private DataSize maxStackTrace = DataSize.ofKilobytes(16);

		/**
		 * Whether the ERROR line of a dead-lettered record shows the start of its value (200 characters at most,
		 * control characters escaped). Off by default: a payload can hold personal data.
		 */
		private boolean logPayload = false;

		public String getSuffix() {
			return this.suffix;
		}

		public void setSuffix(String suffix) {
			this.suffix = suffix;
		}

		public DataSize getMaxExceptionMessage() {
			return this.maxExceptionMessage;
		}

		public void setMaxExceptionMessage(DataSize maxExceptionMessage) {
			this.maxExceptionMessage = maxExceptionMessage;
		}

		public boolean isLogPayload() {
			return this.logPayload;
		}

		public void setLogPayload(boolean logPayload) {
			this.logPayload = logPayload;
		}

		public DataSize getMaxStackTrace() {
			return this.maxStackTrace;
		}

		public void setMaxStackTrace(DataSize maxStackTrace) {
			this.maxStackTrace = maxStackTrace;
		}

	}

	/**
	 * The key-ordered dispatcher of listeners with ordering KEY or NONE.
	 */
	public static class Dispatch {

		/**
		 * Workers per assigned partition (records of one partition processed at once; keys are hashed onto four
		 * lanes per worker), unless the listener sets workers.
		 */
		private int workers = 16;

		/**
		 * Threads shared by the workers of all the partitions of one listener container.
		 */
		private int maxThreads = 256;

		/**
		 * Records of one partition held (dispatched and not yet below the commit frontier: queued, running, or
		 * finished behind an unfinished one) before the partition is paused (it resumes below half).
		 */
		private int maxInFlightPerPartition = 1000;

		/**
		 * Bytes (keys and values) dispatched and not finished per listener container before the partitions
		 * receiving more are paused (they resume below half).
		 */
		private DataSize maxInFlightBytes = DataSize.ofMegabytes(64);

		/**
		 * How long the records already running of revoked partitions, and of all partitions at shutdown, may take to
		 * finish before the frontier is committed (naming the records finished beyond it) and the rest is left to be
		 * redelivered. Records not started are not run.
		 */
		private Duration drainTimeout = Duration.ofSeconds(10);

		/**
		 * Whether workers run on virtual threads (honoured on JDK 21+; platform threads before).
		 */
		private boolean virtualThreads = false;

		/**
		 * How long the record holding a partition's commit frontier back may be unfinished before it is logged
		 * (at most once a minute per partition).
		 */
		private Duration frontierWarning = Duration.ofSeconds(30);

		public int getWorkers() {
			return this.workers;
		}

		public void setWorkers(int workers) {
			this.workers = workers;
		}

		public int getMaxThreads() {
			return this.maxThreads;
		}

		public void setMaxThreads(int maxThreads) {
			this.maxThreads = maxThreads;
		}

		public int getMaxInFlightPerPartition() {
			return this.maxInFlightPerPartition;
		}

		public void setMaxInFlightPerPartition(int maxInFlightPerPartition) {
			this.maxInFlightPerPartition = maxInFlightPerPartition;
		}

		public DataSize getMaxInFlightBytes() {
			return this.maxInFlightBytes;
		}

		public void setMaxInFlightBytes(DataSize maxInFlightBytes) {
			this.maxInFlightBytes = maxInFlightBytes;
		}

		public Duration getDrainTimeout() {
			return this.drainTimeout;
		}

		public void setDrainTimeout(Duration drainTimeout) {
			this.drainTimeout = drainTimeout;
		}

		public boolean isVirtualThreads() {
			return this.virtualThreads;
		}

		public void setVirtualThreads(boolean virtualThreads) {
			this.virtualThreads = virtualThreads;
		}

		public Duration getFrontierWarning() {
			return this.frontierWarning;
		}

		public void setFrontierWarning(Duration frontierWarning) {
			this.frontierWarning = frontierWarning;
		}

	}

	/**
	 * Share-group listeners ({@code @ReliableListener(group = GroupType.SHARE)}).
	 */
	public static class Share {

		/**
		 * Records a share consumer acquires per poll (share.acquire.mode=record_limit). Every record acquired when a
		 * consumer crashes has its delivery count raised, and the last delivery goes to the dead-letter topic without
		 * running: with 1, a record that kills its consumer takes no other record with it. Higher values fetch
		 * faster.
		 */
		private int maxPollRecords = 1;

		/**
		 * Share consumers of a listener that does not set concurrency.
		 */
		private int concurrency = 1;

		public int getMaxPollRecords() {
			return this.maxPollRecords;
		}

		public void setMaxPollRecords(int maxPollRecords) {
			this.maxPollRecords = maxPollRecords;
		}

		public int getConcurrency() {
			return this.concurrency;
		}

		public void setConcurrency(int concurrency) {
			this.concurrency = concurrency;
		}

	}

}
