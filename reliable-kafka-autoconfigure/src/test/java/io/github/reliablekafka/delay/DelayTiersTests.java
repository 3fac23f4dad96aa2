package io.github.reliablekafka.delay;

import java.time.Duration;
import java.util.List;

import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class DelayTiersTests {

	private final DelayTiers tiers = new DelayTiers(List.of(Duration.ofMinutes(1), Duration.ofSeconds(1),
			Duration.ofSeconds(5), Duration.ofHours(2), Duration.ofMillis(250)), "rk-delay-");

	@Test
	void topicsAreNamedAfterTheirDelaysShortestFirst() {
		assertThat(this.tiers.topics()).containsExactly("rk-delay-250ms", "rk-delay-1s", "rk-delay-5s", "rk-delay-1m",
				"rk-delay-2h");
		assertThat(this.tiers.tierOf("rk-delay-5s")).isEqualTo(5_000);
		assertThat(this.tiers.tierOf("orders")).isEqualTo(-1);
	}

	@Test
	void aDelayGoesToTheLargestTierNotLongerThanWhatIsLeft() {
		assertThat(this.tiers.topicFor(100)).as("shorter than all tiers: the smallest").isEqualTo("rk-delay-250ms");
		assertThat(this.tiers.topicFor(1_000)).isEqualTo("rk-delay-1s");
		assertThat(this.tiers.topicFor(4_999)).isEqualTo("rk-delay-1s");
		assertThat(this.tiers.topicFor(59_000)).isEqualTo("rk-delay-5s");
		assertThat(this.tiers.topicFor(3 * 3_600_000L)).as("longer than the largest").isEqualTo("rk-delay-2h");
	}

	@Test
	void aRecordNeverLeavesItsTierBeforeItIsDue() {
		assertThat(DelayTiers.leavesAt(5_000, 1_000, 100_000)).as("tier time first").isEqualTo(6_000);
		assertThat(DelayTiers.leavesAt(1_000, 1_000, 1_400)).as("due before the tier passed").isEqualTo(1_400);
	}

	@Test
	void theScheduledRecordCarriesThePlanAndKeepsTheRest() {
		RecordHeaders headers = new RecordHeaders();
		RkHeaders.set(headers, RkHeaders.ID, "id-1");
		ProducerRecord<String, byte[]> record = new ProducerRecord<>("orders", null, "k", new byte[] { 1 }, headers);
		long dueAt = System.currentTimeMillis() + 7_000;
		ProducerRecord<String, byte[]> planned = this.tiers.schedule(record, dueAt);
		assertThat(planned.topic()).isEqualTo("rk-delay-5s");
		assertThat(planned.key()).isEqualTo("k");
		assertThat(planned.value()).containsExactly(1);
		assertThat(RkHeaders.id(planned.headers())).isEqualTo("id-1");
		assertThat(RkHeaders.text(planned.headers(), RkHeaders.DUE_AT)).isEqualTo(Long.toString(dueAt));
		assertThat(RkHeaders.text(planned.headers(), RkHeaders.TARGET_TOPIC)).isEqualTo("orders");
		assertThat(planned.timestamp()).isLessThanOrEqualTo(System.currentTimeMillis());
	}

	@Test
	void badTiersAreRefusedWithTheProperty() {
		assertThatIllegalArgumentException().isThrownBy(() -> new DelayTiers(List.of(), "rk-delay-"))
			.withMessageContaining("reliable.kafka.delay.tiers");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new DelayTiers(List.of(Duration.ofSeconds(1), Duration.ofMillis(1000)), "rk-delay-"))
			.withMessageContaining("twice");
		assertThatIllegalArgumentException().isThrownBy(() -> new DelayTiers(List.of(Duration.ZERO), "rk-delay-"))
			.withMessageContaining("positive");
	}

}
