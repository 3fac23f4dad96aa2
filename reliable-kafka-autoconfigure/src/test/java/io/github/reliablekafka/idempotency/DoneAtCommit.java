package io.github.reliablekafka.idempotency;

import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import io.github.reliablekafka.support.RkHeaders;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A consumer interceptor that asks Redis, when the consumer has committed an offset, whether every record it consumed
 * below that offset is {@code DONE}: a record committed before its {@code DONE} was written counts as one not done.
 * The consumer calls {@link #onCommit} on its own thread, right after the commit, before its next poll.
 */
public final class DoneAtCommit implements ConsumerInterceptor<String, byte[]> {

	private static volatile @Nullable StringRedisTemplate redis;

	private static volatile Function<String, String> stateKey = (id) -> id;

	private static final Map<TopicPartition, NavigableMap<Long, String>> consumed = new ConcurrentHashMap<>();

	static final AtomicLong checked = new AtomicLong();

	static final AtomicLong notDone = new AtomicLong();

	/**
	 * Start checking, for the next application.
	 * @param template the Redis to ask
	 * @param state the state key of a record's {@code rk-id}
	 */
	static void watch(@Nullable StringRedisTemplate template, Function<String, String> state) {
		consumed.clear();
		checked.set(0);
		notDone.set(0);
		stateKey = state;
		redis = template;
	}

	@Override
	public ConsumerRecords<String, byte[]> onConsume(ConsumerRecords<String, byte[]> records) {
		for (ConsumerRecord<String, byte[]> record : records) {
			String id = RkHeaders.id(record.headers());
			if (id != null) {
				consumed.computeIfAbsent(new TopicPartition(record.topic(), record.partition()),
						(partition) -> new ConcurrentSkipListMap<>())
					.put(record.offset(), id);
			}
		}
		return records;
	}

	@Override
	public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
		StringRedisTemplate template = redis;
		if (template == null) {
			return;
		}
		offsets.forEach((partition, offset) -> {
			NavigableMap<Long, String> below = consumed.getOrDefault(partition, new ConcurrentSkipListMap<>())
				.headMap(offset.offset(), false);
			below.values().forEach((id) -> {
				checked.incrementAndGet();
				if (!"DONE".equals(template.opsForValue().get(stateKey.apply(id)))) {
					notDone.incrementAndGet();
				}
			});
			below.clear();
		});
	}

	@Override
	public void close() {
	}

	@Override
	public void configure(Map<String, ?> configs) {
	}

}
