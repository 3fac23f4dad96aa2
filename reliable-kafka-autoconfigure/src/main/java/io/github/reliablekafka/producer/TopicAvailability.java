package io.github.reliablekafka.producer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * Tracks topics whose metadata the Kafka client could not get. A send to such a topic blocks in the client for up
 * to {@code max.block.ms} and then fails; without care, every waiting key would block a thread that long, one
 * after the other.
 *
 * <p>
 * While a topic is out, sends by the application fail their attempt at once rather than block, and their records
 * wait for a retry round. One retry round at a time <em>probes</em> the topic (calls the client and blocks);
 * rounds that come meanwhile register as waiters instead: when the probe returns they are woken, to send at once
 * if the topic is back, or to count one failed attempt each if it is not. So only one thread blocks per topic,
 * each retry attempt costs about one {@code max.block.ms}, and recovery is noticed as soon as the client has the
 * metadata again.
 */
final class TopicAvailability {

	/** A client call that returned faster than this did not wait for metadata. */
	private static final long BLOCKED_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	private final Map<String, Outage> outages = new ConcurrentHashMap<>();

	/** What an attempt may do. */
	enum Verdict {

		/** The topic is not known to be out: call the client. */
		GO,

		/** The topic is out and nobody probes it: call the client, as the probe. */
		PROBE,

		/** Another attempt is probing: do not call the client. */
		WAIT

	}

	/**
	 * Decide what an attempt on a topic may do. While the topic is out, a record sent by the application fails its
	 * attempt at once (its send returns, and the record waits for a retry round); a retry round probes, or waits
	 * for the probe under way.
	 * @param topic the topic
	 * @param round the lane of a retry round, to wake when the probe under way returns; {@code null} for a send
	 * by the application
	 * @return the verdict; {@link Verdict#PROBE} makes the caller responsible for reporting the probe's result
	 */
	Verdict claim(String topic, @Nullable KeyLane round) {
		Outage outage = this.outages.get(topic);
		if (outage == null) {
			return Verdict.GO;
		}
		synchronized (outage) {
			if (outage.ended) {
				return Verdict.GO;
			}
			if (round == null) {
				return Verdict.WAIT;
			}
			if (!outage.probing) {
				outage.probing = true;
				return Verdict.PROBE;
			}
			outage.waiters.add(round);
			return Verdict.WAIT;
		}
	}

	/**
	 * Return why a topic is out.
	 * @param topic the topic
	 * @return the last time-out a probe saw
	 */
	Throwable cause(String topic) {
		Outage outage = this.outages.get(topic);
		return (outage != null) ? outage.cause
				: new org.apache.kafka.common.errors.TimeoutException("Metadata for topic " + topic + " unavailable");
	}

	/**
	 * Report how a client call went.
	 * @param topic the topic
	 * @param verdict the verdict the call was made under
	 * @param blockedNanos how long the call took
	 * @param timeout the time-out the call failed with, {@code null} when it returned
	 * @return the waiters to wake, and whether the topic is out
	 */
	Result report(String topic, Verdict verdict, long blockedNanos, @Nullable Throwable timeout) {
		if (timeout == null) {
			if (this.outages.isEmpty()) {
				return Result.NOTHING;
			}
			Outage outage = this.outages.remove(topic);
			return (outage != null) ? new Result(false, null, outage.end()) : Result.NOTHING;
		}
		if (verdict != Verdict.PROBE && blockedNanos < BLOCKED_NANOS) {
			return Result.NOTHING;
		}
		Outage outage = this.outages.computeIfAbsent(topic, (t) -> new Outage(timeout));
		synchronized (outage) {
			outage.cause = timeout;
			if (verdict == Verdict.PROBE) {
				outage.probing = false;
			}
			List<KeyLane> waiters = new ArrayList<>(outage.waiters);
			outage.waiters.clear();
			return new Result(true, timeout, waiters);
		}
	}

	/**
	 * Give up a probe that was claimed but not made, waking the waiters so that one of them probes.
	 * @param topic the topic
	 * @return the waiters to wake
	 */
	List<KeyLane> release(String topic) {
		Outage outage = this.outages.get(topic);
		if (outage == null) {
			return List.of();
		}
		synchronized (outage) {
			outage.probing = false;
			List<KeyLane> waiters = new ArrayList<>(outage.waiters);
			outage.waiters.clear();
			return waiters;
		}
	}

	@Override
	public String toString() {
		StringBuilder out = new StringBuilder();
		this.outages.forEach((topic, outage) -> {
			synchronized (outage) {
				out.append("outage ").append(topic).append(": probing=").append(outage.probing).append(" ended=")
					.append(outage.ended).append(" waiters=").append(outage.waiters.size()).append('\n');
			}
		});
		return out.toString();
	}

	/**
	 * The result of a client call for the waiters of its topic.
	 *
	 * @param out whether the topic is out
	 * @param cause the time-out when it is out
	 * @param waiters the lanes to wake
	 */
	record Result(boolean out, @Nullable Throwable cause, List<KeyLane> waiters) {

		static final Result NOTHING = new Result(false, null, List.of());

	}

	private static final class Outage {

		Throwable cause;

		boolean probing;

		boolean ended;

		final Set<KeyLane> waiters = new LinkedHashSet<>();

		Outage(Throwable cause) {
			this.cause = cause;
		}

		synchronized List<KeyLane> end() {
			this.ended = true;
			List<KeyLane> woken = new ArrayList<>(this.waiters);
			this.waiters.clear();
			return woken;
		}

	}

}
