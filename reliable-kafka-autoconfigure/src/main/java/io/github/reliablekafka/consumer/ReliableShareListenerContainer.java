package io.github.reliablekafka.consumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.reliablekafka.internal.ShareGroupContainer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.kafka.core.ShareConsumerFactory;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * The container of one reliable share-group listener: {@code concurrency} share consumers of the group, each with its
 * own thread and worker ({@link ShareConsumerLoop}). Before the first consumer starts, the group is prepared
 * ({@link ShareGroups}): the broker must have share groups on, its delivery-count limit is read, and a new group starts
 * from the earliest record. Registered in spring-kafka's listener registry like any container, so it is started,
 * stopped and looked up by its id.
 */
final class ReliableShareListenerContainer implements MessageListenerContainer, ShareGroupContainer {

	private static final Logger logger = LoggerFactory.getLogger(ReliableShareListenerContainer.class);

	private final String listenerId;

	private final ShareConsumerFactory<String, byte[]> factory;

	private final ContainerProperties properties;

	private final ShareGroups groups;

	private int concurrency = 1;

	private boolean autoStartup = true;

	private int phase = Integer.MAX_VALUE - 100;

	private @Nullable ShareRecordHandler handler;

	private final List<ShareConsumerLoop> loops = new ArrayList<>();

	private final List<Thread> threads = new ArrayList<>();

	private volatile boolean running;

	private final AtomicBoolean lockLogged = new AtomicBoolean();

	private Duration longestBackOff = Duration.ZERO;

	ReliableShareListenerContainer(String listenerId, ShareConsumerFactory<String, byte[]> factory,
			ContainerProperties properties, ShareGroups groups) {
		this.listenerId = listenerId;
		this.factory = factory;
		this.properties = properties;
		this.groups = groups;
	}

	void setLongestBackOff(Duration longestBackOff) {
		this.longestBackOff = longestBackOff;
	}

	void setConcurrency(int concurrency) {
		if (concurrency < 1) {
			throw new IllegalArgumentException("Reliable listener '" + this.listenerId + "' has concurrency="
					+ concurrency + "; a share-group listener needs at least 1 consumer");
		}
		this.concurrency = concurrency;
	}

	/**
	 * Set the handler each record runs through: the library's chain around the message listener the endpoint set up.
	 * @param handler the handler
	 */
	void setHandler(ShareRecordHandler handler) {
		this.handler = handler;
	}

	@Override
	public void setupMessageListener(Object messageListener) {
		this.properties.setMessageListener(messageListener);
	}

	@Override
	public ContainerProperties getContainerProperties() {
		return this.properties;
	}

	@Override
	public String getListenerId() {
		return this.listenerId;
	}

	@Override
	public String getGroupId() {
		return this.groupId();
	}

	private String groupId() {
		String group = this.properties.getGroupId();
		return (group != null) ? group : this.listenerId;
	}

	@Override
	public synchronized void start() {
		if (this.running) {
			return;
		}
		ShareRecordHandler current = this.handler;
		if (current == null) {
			throw new IllegalStateException("Reliable listener '" + this.listenerId + "' was not set up");
		}
		String group = groupId();
		int deliveryLimit = this.groups.prepare(this.listenerId, group);
		String[] topics = this.properties.getTopics();
		long shutdown = this.properties.getShutdownTimeout();
		for (int i = 0; i < this.concurrency; i++) {
			String clientId = this.listenerId + "-share-" + i;
			ShareConsumerLoop loop = new ShareConsumerLoop(this.listenerId, this.factory, group, clientId,
					List.of((topics != null) ? topics : new String[0]), current, deliveryLimit, shutdown, this::lockKnown);
			Thread thread = new Thread(loop, ShareConsumerLoop.threadName(this.listenerId, clientId));
			this.loops.add(loop);
			this.threads.add(thread);
			thread.start();
		}
		this.running = true;
		for (ShareConsumerLoop loop : this.loops) {
			try {
				if (!loop.awaitStarted(Duration.ofSeconds(30))) {
					logger.warn("A share consumer of listener '{}' did not subscribe within 30 s", this.listenerId);
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				break;
			}
		}
		logger.info("Reliable listener '{}' reads {} in share group '{}' with {} consumer(s); delivery-count limit {}, "
				+ "the last delivery kept for the dead-letter topic", this.listenerId, List.of(topics), group,
				this.concurrency, deliveryLimit);
	}

	/** Say once what the acquisition lock is and how the library keeps it. */
	private void lockKnown(int lockMillis) {
		if (this.lockLogged.compareAndSet(false, true)) {
			logger.info("Share listener '{}': the broker's acquisition lock is {} ms; a record that runs longer than {} "
					+ "ms (its listener, a back-off wait of up to {} ms, or a wait for the idempotency guard) has its lock "
					+ "renewed every {} ms, so it is never delivered to another consumer while it runs", this.listenerId,
					(lockMillis > 0) ? lockMillis : "unknown", (lockMillis > 0) ? lockMillis / 3 : 10_000,
					this.longestBackOff.toMillis(), (lockMillis > 0) ? lockMillis / 3 : 10_000);
		}
	}

	@Override
	public synchronized void stop() {
		if (!this.running) {
			return;
		}
		this.loops.forEach(ShareConsumerLoop::stop);
		long deadline = System.currentTimeMillis() + this.properties.getShutdownTimeout() + 5_000;
		for (Thread thread : this.threads) {
			try {
				thread.join(Math.max(1, deadline - System.currentTimeMillis()));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				break;
			}
		}
		for (Thread thread : this.threads) {
			if (thread.isAlive()) {
				logger.warn("Share consumer thread {} of listener '{}' did not stop in time", thread.getName(),
						this.listenerId);
			}
		}
		this.loops.clear();
		this.threads.clear();
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public boolean isAutoStartup() {
		return this.autoStartup;
	}

	@Override
	public void setAutoStartup(boolean autoStartup) {
		this.autoStartup = autoStartup;
	}

	@Override
	public int getPhase() {
		return this.phase;
	}

	void setPhase(int phase) {
		this.phase = phase;
	}

	@Override
	public Map<String, Map<MetricName, ? extends Metric>> metrics() {
		return Map.of();
	}

	@Override
	public boolean isInExpectedState() {
		return this.running || !this.autoStartup;
	}

	@Override
	public void destroy() {
		stop();
	}

	@Override
	public String toString() {
		return "ReliableShareListenerContainer[" + this.listenerId + ", group " + groupId() + "]";
	}

}
