package io.github.reliablekafka.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

import org.slf4j.Logger;

import org.springframework.core.NestedExceptionUtils;

/**
 * Logs a failure that repeats (a background task's while Kafka, the database or Redis is unreachable) once per cause
 * per interval, with how often it happened since: the first occurrence at once, then at most one line per interval
 * saying "N more times in the last ...", and one line at INFO when the task succeeds again. A cause is the
 * failure's type and message; the details of every occurrence are at DEBUG.
 *
 * <p>
 * <b>Thread safety:</b> every method may be called from any thread.
 */
public final class ThrottledLog {

	private static final Pattern DIGITS = Pattern.compile("[0-9]+");

	private static final int MAX_CAUSES = 32;

	private final Logger logger;

	private final String what;

	private final long intervalNanos;

	private final Map<String, Cause> causes = new LinkedHashMap<>();

	private long failures;

	/**
	 * Create a log.
	 * @param logger where to log
	 * @param what what failed, the start of each line ("Consumer lag not measured")
	 * @param interval the shortest time between two lines of one cause
	 */
	public ThrottledLog(Logger logger, String what, Duration interval) {
		this.logger = logger;
		this.what = what;
		this.intervalNanos = interval.toNanos();
	}

	/**
	 * Report a failure: logged at WARN if it is the first of its cause or the cause's last line is an interval old.
	 * @param cause what went wrong, for example the exception
	 * @param next what happens next ("retrying in 30 s"), or empty
	 */
	public void failed(Throwable cause, String next) {
		failed(describe(cause), next);
		this.logger.debug("{}", this.what, cause);
	}

	/**
	 * Report a failure: logged at WARN if it is the first of its cause or the cause's last line is an interval old.
	 * @param cause what went wrong
	 * @param next what happens next ("retrying in 30 s"), or empty
	 */
	public void failed(String cause, String next) {
		String key = DIGITS.matcher(cause).replaceAll("#"); // "after 5012 ms" and "after 5003 ms" are one cause
		String line = null;
		synchronized (this) {
			this.failures++;
			long now = System.nanoTime();
			Cause seen = this.causes.get(key);
			if (seen == null) {
				if (this.causes.size() >= MAX_CAUSES) {
					this.causes.remove(this.causes.keySet().iterator().next());
				}
				this.causes.put(key, new Cause(now));
				line = this.what + ": " + cause + suffix(next);
			}
			else if (now - seen.loggedAt >= this.intervalNanos) {
				long repeats = seen.since + 1;
				line = this.what + " (" + repeats + " more time" + ((repeats == 1) ? "" : "s") + " in the last "
						+ Duration.ofNanos(now - seen.loggedAt).toSeconds() + " s): " + cause + suffix(next);
				seen.loggedAt = now;
				seen.since = 0;
			}
			else {
				seen.since++;
			}
		}
		if (line != null) {
			this.logger.warn(line);
		}
	}

	/**
	 * Report a success: logged at INFO when failures were reported before it.
	 * @param what what works again ("Consumer lag measured again")
	 */
	public void succeeded(String what) {
		long failed;
		synchronized (this) {
			failed = this.failures;
			this.failures = 0;
			this.causes.clear();
		}
		if (failed > 0) {
			this.logger.info("{} after {} failure{}", what, failed, (failed == 1) ? "" : "s");
		}
	}

	/**
	 * Return whether failures were reported since the last success.
	 * @return whether the task is failing
	 */
	public synchronized boolean failing() {
		return this.failures > 0;
	}

	private static String suffix(String next) {
		return next.isEmpty() ? "" : "; " + next;
	}

	/**
	 * Describe a failure in one line: the deepest cause's type and message, which stays the same from one
	 * occurrence of an outage to the next.
	 * @param failure the failure
	 * @return the description
	 */
	public static String describe(Throwable failure) {
		Throwable root = NestedExceptionUtils.getMostSpecificCause(failure);
		String message = (root.getMessage() != null) ? root.getMessage().strip() : "";
		int newline = message.indexOf('\n');
		if (newline >= 0) {
			message = message.substring(0, newline);
		}
		return root.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
	}

	private static final class Cause {

		private long loggedAt;

		private long since;

		private Cause(long loggedAt) {
			this.loggedAt = loggedAt;
		}

	}

}
