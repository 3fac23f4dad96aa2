package io.github.reliablekafka.internal;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class RetryBackoffTests {

	private final RetryBackoff backoff = new RetryBackoff(5, Duration.ofMillis(500), 2.0, Duration.ofSeconds(3));

	@Test
	void delayGrowsByTheMultiplierUpToTheMaximum() {
		assertThat(this.backoff.delayAfter(1)).isEqualTo(Duration.ofMillis(500));
		assertThat(this.backoff.delayAfter(2)).isEqualTo(Duration.ofMillis(1000));
		assertThat(this.backoff.delayAfter(3)).isEqualTo(Duration.ofMillis(2000));
		assertThat(this.backoff.delayAfter(4)).isEqualTo(Duration.ofSeconds(3));
		assertThat(this.backoff.delayAfter(60)).isEqualTo(Duration.ofSeconds(3));
	}

	@Test
	void maxAttemptsCountsTheFirstAttempt() {
		assertThat(this.backoff.canRetry(4)).isTrue();
		assertThat(this.backoff.canRetry(5)).isFalse();
		assertThat(new RetryBackoff(1, Duration.ZERO, 1.0, Duration.ZERO).canRetry(1)).isFalse();
	}

	@Test
	void totalDelayIsTheSumOfWaitsBetweenAttempts() {
		assertThat(this.backoff.totalDelay()).isEqualTo(Duration.ofMillis(500 + 1000 + 2000 + 3000));
	}

	@Test
	void jitterSpreadsEachWaitWithinItsBoundsScaledByTheWait() {
		RetryBackoff jittered = new RetryBackoff(5, Duration.ofMillis(500), 2.0, Duration.ofSeconds(3),
				Duration.ofMillis(100));
		java.util.Set<Long> seen = new java.util.HashSet<>();
		for (int i = 0; i < 2_000; i++) {
			long first = jittered.delayAfter(1).toMillis();
			assertThat(first).as("never below the delay").isBetween(500L, 600L);
			long third = jittered.delayAfter(3).toMillis(); // 2,000 ms, 4x the delay: up to 400 ms either way
			assertThat(third).isBetween(1_600L, 2_400L);
			seen.add(third);
			assertThat(jittered.delayAfter(10).toMillis()).as("never above max-delay").isBetween(2_000L, 3_000L);
		}
		assertThat(seen.size()).as("the waits vary").isGreaterThan(100);
		assertThat(jittered.longestDelayAfter(3)).isEqualTo(Duration.ofMillis(2_400));
		assertThat(jittered.totalDelay()).as("the longest waits")
			.isEqualTo(Duration.ofMillis(600 + 1_200 + 2_400 + 3_000));
	}

	@Test
	void nonsenseIsRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> new RetryBackoff(0, Duration.ZERO, 1, Duration.ZERO));
		assertThatIllegalArgumentException().isThrownBy(() -> new RetryBackoff(1, Duration.ZERO, 0.5, Duration.ZERO));
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new RetryBackoff(1, Duration.ofSeconds(2), 1, Duration.ofSeconds(1)));
		assertThatIllegalArgumentException().isThrownBy(
				() -> new RetryBackoff(1, Duration.ZERO, 1, Duration.ZERO, Duration.ofMillis(-1)));
	}

}
