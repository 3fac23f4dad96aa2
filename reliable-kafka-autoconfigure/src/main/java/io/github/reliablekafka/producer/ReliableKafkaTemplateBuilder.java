package io.github.reliablekafka.producer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.reliablekafka.internal.RetryBackoff;
import io.github.reliablekafka.support.PayloadCodec;

import org.jspecify.annotations.Nullable;

import org.springframework.kafka.core.KafkaOperations;
import org.springframework.util.Assert;

/**
 * Builds a {@link ReliableKafkaTemplate} that sends directly to Kafka. Defaults match the
 * {@code reliable.kafka.producer.*} property defaults.
 */
public final class ReliableKafkaTemplateBuilder {

	private final KafkaOperations<String, byte[]> kafkaOperations;

	private PayloadCodec codec = PayloadCodec.fastjson2();

	private RetryBackoff retry = new RetryBackoff(5, Duration.ofMillis(500), 2.0, Duration.ofSeconds(30));

	private Duration sendTimeout = Duration.ofSeconds(30);

	private int maxInFlight = 10_000;

	private Duration maxBlock = Duration.ofSeconds(60);

	private int maxRequestSize = 1_048_576;

	private final List<SendOutcomeListener> listeners = new ArrayList<>();

	private final List<AutoCloseable> closeables = new ArrayList<>();

	private @Nullable DelayedDelivery delayedDelivery;

	ReliableKafkaTemplateBuilder(KafkaOperations<String, byte[]> kafkaOperations) {
		Assert.notNull(kafkaOperations, "kafkaOperations must not be null");
		this.kafkaOperations = kafkaOperations;
	}

	/**
	 * Set the payload codec.
	 * @param codec the codec
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder codec(PayloadCodec codec) {
		this.codec = codec;
		return this;
	}

	/**
	 * Set the retry policy applied after the Kafka client gave up on a record.
	 * @param retry the policy; {@code maxAttempts} counts the first attempt
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder retry(RetryBackoff retry) {
		this.retry = retry;
		return this;
	}

	/**
	 * Set how long {@link ReliableKafkaTemplate#sendAndWait} waits, and how long closing waits for outcomes.
	 * @param sendTimeout the timeout
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder sendTimeout(Duration sendTimeout) {
		Assert.isTrue(!sendTimeout.isNegative() && !sendTimeout.isZero(), "sendTimeout must be positive");
		this.sendTimeout = sendTimeout;
		return this;
	}

	/**
	 * Set how many sends may await an outcome at once.
	 * @param maxInFlight the bound, at least 1
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder maxInFlight(int maxInFlight) {
		Assert.isTrue(maxInFlight >= 1, "maxInFlight must be at least 1");
		this.maxInFlight = maxInFlight;
		return this;
	}

	/**
	 * Set how long {@code send} blocks when {@code maxInFlight} sends await an outcome.
	 * @param maxBlock the longest wait
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder maxBlock(Duration maxBlock) {
		Assert.isTrue(!maxBlock.isNegative(), "maxBlock must not be negative");
		this.maxBlock = maxBlock;
		return this;
	}

	/**
	 * Set the largest record the producer accepts, its {@code max.request.size}: larger records are refused before
	 * anything is sent.
	 * @param maxRequestSize the size in bytes
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder maxRequestSize(int maxRequestSize) {
		this.maxRequestSize = maxRequestSize;
		return this;
	}

	/**
	 * Add a listener that hears every outcome, after the ones added before.
	 * @param listener the listener
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder listener(SendOutcomeListener listener) {
		this.listeners.add(listener);
		return this;
	}

	/**
	 * Add a resource to close after the template closed, such as the producer factory it owns.
	 * @param closeable the resource
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder closeOnShutdown(AutoCloseable closeable) {
		this.closeables.add(closeable);
		return this;
	}

	/**
	 * Let {@link ReliableKafkaTemplate#sendDelayed} hold messages back without a database.
	 * @param delayedDelivery plans each delayed record (the delay tiers)
	 * @return this builder
	 */
	public ReliableKafkaTemplateBuilder delayedDelivery(DelayedDelivery delayedDelivery) {
		this.delayedDelivery = delayedDelivery;
		return this;
	}

	/**
	 * Build the template. When it is not a Spring bean, call {@code destroy()} on it (it implements
	 * {@link org.springframework.beans.factory.DisposableBean}) to drain and close it.
	 * @return the template
	 */
	public ReliableKafkaTemplate build() {
		return new DirectReliableKafkaTemplate(this.kafkaOperations, this.codec, this.retry, this.sendTimeout,
				this.maxInFlight, this.maxBlock, this.maxRequestSize, new CompositeSendOutcomeListener(this.listeners),
				List.copyOf(this.closeables), this.delayedDelivery);
	}

}
