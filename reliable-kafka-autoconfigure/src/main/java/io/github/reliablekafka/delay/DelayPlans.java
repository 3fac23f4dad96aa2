package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jspecify.annotations.Nullable;

/**
 * Reads and checks the plan a tier record carries ({@code rk-target-topic}, {@code rk-due-at}) and says what the
 * forwarder does with it. Anyone who can write to a tier topic can write a plan, so none is trusted: a plan is
 * refused, and its record goes to the delay dead-letter topic with the reason in {@code rk-delay-refused}, when it
 * cannot be read, when its target is a delay topic (a tier, or the dead-letter topic: a record would go round for
 * ever), a name Kafka cannot have, or a topic outside {@code reliable.kafka.delay.allowed-targets}, or when it is due
 * further ahead than {@code reliable.kafka.delay.max-delay}. A record's timestamp in the future counts as now.
 */
final class DelayPlans {

	/** The reason a plan was refused, on the record in the delay dead-letter topic. */
	static final String REFUSED = "rk-delay-refused";

	private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

	private final DelayTiers tiers;

	private final String deadLetterTopic;

	private final List<Pattern> allowedTargets;

	private final long maxDelayMillis;

	/**
	 * Create the checks.
	 * @param tiers the tiers
	 * @param deadLetterTopic the delay dead-letter topic
	 * @param allowedTargets the topics a plan may name (whole names as regular expressions); empty for any topic
	 * that is not a delay topic
	 * @param maxDelay how far ahead a plan may be due
	 */
	DelayPlans(DelayTiers tiers, String deadLetterTopic, List<Pattern> allowedTargets, Duration maxDelay) {
		this.tiers = tiers;
		this.deadLetterTopic = deadLetterTopic;
		this.allowedTargets = List.copyOf(allowedTargets);
		this.maxDelayMillis = maxDelay.toMillis();
	}

	/**
	 * Say why a topic may not be the target of a delayed record.
	 * @param target the topic
	 * @return the reason, or {@code null} when it may
	 */
	@Nullable String refusal(@Nullable String target) {
		if (target == null || target.isBlank()) {
			return "it has no " + RkHeaders.TARGET_TOPIC + " header";
		}
		if (!TOPIC_NAME.matcher(target).matches() || target.equals(".") || target.equals("..")) {
			return "its target is not a topic name Kafka accepts";
		}
		if (this.tiers.tierOf(target) >= 0 || target.equals(this.deadLetterTopic)) {
			return "its target " + target + " is a delay topic";
		}
		if (!this.allowedTargets.isEmpty()
				&& this.allowedTargets.stream().noneMatch((pattern) -> pattern.matcher(target).matches())) {
			return "its target " + target + " is not in reliable.kafka.delay.allowed-targets";
		}
		return null;
	}

	/**
	 * Say why a due time may not be planned.
	 * @param dueAt the due time, epoch milliseconds
	 * @param now the current time
	 * @return the reason, or {@code null} when it may
	 */
	@Nullable String refusal(long dueAt, long now) {
		if (dueAt < 0) {
			return "it has no readable " + RkHeaders.DUE_AT + " header";
		}
		if (dueAt - now > this.maxDelayMillis) {
			return "it is due " + Duration.ofMillis(dueAt - now) + " from now, beyond reliable.kafka.delay.max-delay="
					+ Duration.ofMillis(this.maxDelayMillis);
		}
		return null;
	}

	/**
	 * Decide what happens to a tier record now.
	 * @param record the record
	 * @param now the current time
	 * @return where it goes, or when it may leave its tier
	 */
	Decision decide(ConsumerRecord<String, byte[]> record, long now) {
		String target = RkHeaders.text(record.headers(), RkHeaders.TARGET_TOPIC);
		long dueAt = dueAt(record);
		String refused = refusal(target);
		if (refused == null) {
			refused = refusal(dueAt, now);
		}
		if (refused != null) {
			return new Decision(deadLetter(record, refused), 0, refused);
		}
		long entered = Math.min(record.timestamp(), now); // a timestamp in the future holds nothing back
		long leavesAt = DelayTiers.leavesAt(Math.max(this.tiers.tierOf(record.topic()), 0), entered, dueAt);
		if (leavesAt > now) {
			return new Decision(null, leavesAt, null);
		}
		if (dueAt <= now) {
			return new Decision(new ProducerRecord<>(target, null, record.key(), record.value(),
					new RecordHeaders(record.headers().toArray())), 0, null);
		}
		return new Decision(this.tiers.hop(target, record.key(), record.value(), record.headers(), dueAt, now), 0,
				null);
	}

	/**
	 * The record a refused plan becomes: the delay dead-letter topic, with the reason.
	 * @param record the tier record
	 * @param reason why
	 * @return the dead letter
	 */
	ProducerRecord<String, byte[]> deadLetter(ConsumerRecord<String, byte[]> record, String reason) {
		RecordHeaders headers = new RecordHeaders(record.headers().toArray());
		RkHeaders.set(headers, REFUSED, reason + " (from " + record.topic() + "-" + record.partition() + "@"
				+ record.offset() + ")");
		return new ProducerRecord<>(this.deadLetterTopic, null, record.key(), record.value(), headers);
	}

	boolean isDeadLetter(String topic) {
		return topic.equals(this.deadLetterTopic);
	}

	private static long dueAt(ConsumerRecord<String, byte[]> record) {
		String text = RkHeaders.text(record.headers(), RkHeaders.DUE_AT);
		try {
			return (text != null) ? Long.parseLong(text.trim()) : -1;
		}
		catch (NumberFormatException ex) {
			return -1;
		}
	}

	/**
	 * What happens to a tier record now.
	 *
	 * @param send the record to send (its target, the next tier, or the dead-letter topic), or {@code null} to hold
	 * @param leavesAt when a held record may leave its tier
	 * @param refused why its plan was refused, when it was
	 */
	record Decision(@Nullable ProducerRecord<String, byte[]> send, long leavesAt, @Nullable String refused) {
	}

}
