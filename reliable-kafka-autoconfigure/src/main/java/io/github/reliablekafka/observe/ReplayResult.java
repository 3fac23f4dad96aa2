package io.github.reliablekafka.observe;

import java.util.Map;

/**
 * What a replay did.
 *
 * @param listener the listener id
 * @param group its consumer group
 * @param from where the replay started
 * @param offsets each partition ({@code topic-partition}) and the offset the group starts from again
 * @param records how many records the group will read again (up to the end offsets at the time of the replay)
 * @param guardBypassed whether those records run without the idempotency guard
 * @param restarted whether the listener's container was running, and was stopped and started again
 */
public record ReplayResult(String listener, String group, ReplayFrom from, Map<String, Long> offsets, long records,
		boolean guardBypassed, boolean restarted) {
}
