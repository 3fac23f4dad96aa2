package io.github.reliablekafka.internal;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.jspecify.annotations.Nullable;

/**
 * The one admin client the library's background work shares (the durability doctor, the lag monitor, replay, the
 * delay topics, the idempotency retention check): created on first use with the application's admin settings and the
 * {@link KafkaClientDefaults}, closed with the application. One client rather than one per task: each client made
 * and closed logs a dozen lines, and holds its own connections to the brokers.
 *
 * <p>
 * <b>Thread safety:</b> an {@link Admin} may be used from many threads at once.
 */
public final class SharedAdmin implements AutoCloseable {

	/** The longest a call of the shared client waits for the cluster, unless the caller gives up earlier. */
	private static final Duration API_TIMEOUT = Duration.ofSeconds(30);

	private final Map<String, Object> adminConfig;

	private @Nullable Admin admin;

	private boolean closed;

	/**
	 * Create the holder; no client is made until one is needed.
	 * @param adminConfig the application's admin settings (bootstrap servers, security)
	 */
	public SharedAdmin(Map<String, Object> adminConfig) {
		this.adminConfig = Map.copyOf(adminConfig);
	}

	/**
	 * Return the client, creating it on first use.
	 * @return the client; callers never close it
	 * @throws IllegalStateException when the holder was closed
	 */
	public synchronized Admin get() {
		if (this.closed) {
			throw new IllegalStateException("The library's admin client is closed");
		}
		if (this.admin == null) {
			this.admin = KafkaClientDefaults.admin(this.adminConfig, "rk-admin", API_TIMEOUT);
		}
		return this.admin;
	}

	/**
	 * Close the client, if one was made.
	 */
	@Override
	public synchronized void close() {
		this.closed = true;
		if (this.admin != null) {
			this.admin.close(Duration.ofSeconds(5));
			this.admin = null;
		}
	}

}
