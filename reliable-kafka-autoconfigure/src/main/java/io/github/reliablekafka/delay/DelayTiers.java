package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The delay tiers: one topic per delay ({@code <prefix>1s}, {@code <prefix>5s}, ...), and the plan that takes a
 * record through them. A record whose remaining delay is {@code d} goes to the largest tier not longer than
 * {@code d} (the smallest tier when {@code d} is shorter than all of them) and leaves that tier at
 * {@code min(due time, time it entered + tier)}: never before it is due. A delay longer than the largest tier, or
 * between two tiers, hops through several. Headers {@code rk-due-at} and {@code rk-target-topic} carry the plan.
 */
final class DelayTiers {

	private final long[] tiers;

	private final String[] topics;

	/**
	 * Create the tiers.
	 * @param tiers the delays, positive, whole milliseconds; any order, no duplicates
	 * @param topicPrefix put before each tier's name to name its topic
	 * @throws IllegalArgumentException when there is no tier, or one is not positive or repeated
	 */
	DelayTiers(List<Duration> tiers, String topicPrefix) {
		Assert.notEmpty(tiers, "reliable.kafka.delay.tiers must name at least one delay");
		Assert.hasText(topicPrefix, "reliable.kafka.delay.topic-prefix must not be empty");
		this.tiers = tiers.stream().mapToLong(Duration::toMillis).sorted().toArray();
		for (int i = 0; i < this.tiers.length; i++) {
			Assert.isTrue(this.tiers[i] > 0, () -> "reliable.kafka.delay.tiers must be positive: " + tiers);
			Assert.isTrue(i == 0 || this.tiers[i] != this.tiers[i - 1],
					() -> "reliable.kafka.delay.tiers has a delay twice: " + tiers);
		}
		this.topics = Arrays.stream(this.tiers).mapToObj((tier) -> topicPrefix + name(tier)).toArray(String[]::new);
	}

	/**
	 * Return the tier topics, shortest delay first.
	 * @return the topic names
	 */
	public List<String> topics() {
		return List.of(this.topics);
	}

	/**
	 * Return the tiers, shortest first.
	 * @return the delays
	 */
	public List<Duration> tiers() {
		List<Duration> durations = new ArrayList<>();
		for (long tier : this.tiers) {
			durations.add(Duration.ofMillis(tier));
		}
		return durations;
	}

	/**
	 * Return the delay of a tier topic.
	 * @param topic a topic
	 * @return its delay in milliseconds, or {@code -1} when the topic is not a tier
	 */
	public long tierOf(String topic) {
		for (int i = 0; i < this.topics.length; i++) {
			if (this.topics[i].equals(topic)) {
				return this.tiers[i];
			}
		}
		return -1;
	}

	/**
	 * Return the topic of the tier a record with the given delay left enters next.
	 * @param remainingMillis the time left until the record is due
	 * @return the largest tier not longer than that, or the smallest tier
	 */
	public String topicFor(long remainingMillis) {
		int chosen = 0;
		for (int i = 0; i < this.tiers.length; i++) {
			if (this.tiers[i] <= remainingMillis) {
				chosen = i;
			}
		}
		return this.topics[chosen];
	}

	/**
	 * Plan the delivery of a record: the record for the tier it enters first.
	 * @param record the record as it would go to its target topic
	 * @param dueAt epoch milliseconds before which it must not reach the target topic
	 * @return the record to send now
	 */
	public ProducerRecord<String, byte[]> schedule(ProducerRecord<String, byte[]> record, long dueAt) {
		return hop(record.topic(), record.key(), record.value(), record.headers(), dueAt, System.currentTimeMillis());
	}

	/**
	 * Build the record that takes a message one tier further.
	 * @param target where the message goes when due
	 * @param key its key
	 * @param value its value
	 * @param headers its headers (copied, then the plan headers are set)
	 * @param dueAt epoch milliseconds before which it is not delivered
	 * @param now the current time, which becomes the record's timestamp
	 * @return the record for the next tier topic
	 */
	ProducerRecord<String, byte[]> hop(String target, @Nullable String key, byte @Nullable [] value, Headers headers,
			long dueAt, long now) {
		RecordHeaders planned = new RecordHeaders(headers.toArray());
		RkHeaders.set(planned, RkHeaders.DUE_AT, Long.toString(dueAt));
		RkHeaders.set(planned, RkHeaders.TARGET_TOPIC, target);
		return new ProducerRecord<>(topicFor(dueAt - now), null, now, key, value, planned);
	}

	/**
	 * Return when a record leaves its tier.
	 * @param tierMillis the tier's delay
	 * @param enteredAt the record's timestamp
	 * @param dueAt its due time
	 * @return {@code min(dueAt, enteredAt + tier)}
	 */
	static long leavesAt(long tierMillis, long enteredAt, long dueAt) {
		return Math.min(dueAt, enteredAt + tierMillis);
	}

	/**
	 * Name a delay for a topic: {@code 2h}, {@code 30m}, {@code 5s} or {@code 250ms}.
	 * @param millis the delay
	 * @return its name
	 */
	static String name(long millis) {
		if (millis % 3_600_000 == 0) {
			return (millis / 3_600_000) + "h";
		}
		if (millis % 60_000 == 0) {
			return (millis / 60_000) + "m";
		}
		if (millis % 1_000 == 0) {
			return (millis / 1_000) + "s";
		}
		return millis + "ms";
	}

}
