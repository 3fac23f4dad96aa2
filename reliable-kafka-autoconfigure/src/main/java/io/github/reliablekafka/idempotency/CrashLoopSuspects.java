package io.github.reliablekafka.idempotency;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Tells a crash loop from a race. A claim count above {@code max-claims} counts every claim that did not finish:
 * claims of consumers that died, and claims of deliveries of the same key that are still running (a relay re-send
 * on another partition, a redelivery after a rebalance). The delivery that owns the key's ledger row first sees the
 * count; it cannot tell the two apart. So the first time a key is over the limit it is only suspected: the owner
 * takes back its claim, rolls back and waits (the record is retried, as when the guard cannot decide). A delivery
 * that was running finishes meanwhile, and the retry finds the key done. Only a key still over the limit when it is
 * owned again, at least {@link #CONFIRM_AFTER_MILLIS} later, is a crash loop. The work never runs in between, so a
 * record that kills its consumer is not run again to be confirmed.
 * <p>
 * Suspicions are kept in memory, at most {@link #MAX_SUSPECTS}, and forgotten after {@link #FORGET_AFTER_MINUTES}:
 * a consumer that takes over the partition from this one suspects the key once more, costing one more wait.
 */
final class CrashLoopSuspects {

	/** The least time between suspicion and confirmation; a listener's guard wait is at least 100 ms. */
	static final long CONFIRM_AFTER_MILLIS = 50;

	static final long FORGET_AFTER_MINUTES = 10;

	static final int MAX_SUSPECTS = 10_000;

	private final Map<String, Long> since = new ConcurrentHashMap<>();

	/**
	 * Whether a key owned with more claims than allowed is a crash loop.
	 * @return {@code true} when the key was suspected before, long enough ago; {@code false} when it is suspected
	 * now (or was, too recently to tell)
	 */
	boolean confirm(String group, String key) {
		String id = group + '\u0000' + key;
		long now = System.nanoTime();
		Long suspected = this.since.get(id);
		if (suspected != null) {
			long age = now - suspected;
			if (age >= TimeUnit.MILLISECONDS.toNanos(CONFIRM_AFTER_MILLIS)
					&& age < TimeUnit.MINUTES.toNanos(FORGET_AFTER_MINUTES)) {
				this.since.remove(id);
				return true;
			}
			if (age < TimeUnit.MILLISECONDS.toNanos(CONFIRM_AFTER_MILLIS)) {
				return false;
			}
		}
		if (this.since.size() >= MAX_SUSPECTS) {
			forgetOld(now);
		}
		this.since.put(id, now);
		return false;
	}

	/** Drop a key's suspicion: it finished or was found done. A no-op, and no allocation, when none is held. */
	void clear(String group, String key) {
		if (!this.since.isEmpty()) {
			this.since.remove(group + '\u0000' + key);
		}
	}

	private void forgetOld(long now) {
		long oldest = now - TimeUnit.MINUTES.toNanos(FORGET_AFTER_MINUTES);
		this.since.values().removeIf((at) -> at - oldest < 0);
		if (this.since.size() >= MAX_SUSPECTS) {
			this.since.clear(); // a flood of suspects: each costs one more wait, none is dead-lettered unconfirmed
		}
	}

	/** The exception for a key over the limit that is not yet confirmed: the record waits and is retried. */
	static GuardUnavailableException suspected(String group, String key, long claims, int maxClaims) {
		return new GuardUnavailableException("Idempotency key " + key + " of group " + group + " was claimed " + claims
				+ " times without finishing (max-claims=" + maxClaims + "); other deliveries of it may still be "
				+ "running, so the record waits and is checked again before it counts as a crash loop");
	}

}
