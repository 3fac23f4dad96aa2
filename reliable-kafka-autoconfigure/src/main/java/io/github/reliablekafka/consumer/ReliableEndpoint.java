package io.github.reliablekafka.consumer;

import java.lang.reflect.Method;

import io.github.reliablekafka.dispatch.Ordering;
import org.jspecify.annotations.Nullable;

import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.kafka.config.KafkaListenerEndpoint;
import org.springframework.kafka.config.MethodKafkaListenerEndpoint;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * What the library reads of one reliable listener's endpoint, once, when its container is created: its id, its
 * method and the attributes of its {@link ReliableListener} annotation. An endpoint without the annotation (a
 * {@code @KafkaListener} or a programmatic endpoint on the reliable container factory) has the annotation's defaults.
 *
 * @param id the listener's id
 * @param method the listener method, {@code null} for an endpoint without one
 * @param batch whether it is a batch listener
 * @param idempotencyKey the idempotency key expression, empty for the default key strategy
 * @param ordering how its records are dispatched
 * @param workers its workers per partition, {@code -1} for the default
 * @param group the kind of group it reads in
 */
record ReliableEndpoint(String id, @Nullable Method method, boolean batch, String idempotencyKey, Ordering ordering,
		int workers, GroupType group) {

	/**
	 * Read an endpoint.
	 * @param container its container
	 * @param endpoint the endpoint
	 * @param factoryBatch whether the factory makes batch listeners by default, if set
	 * @return what the library needs of it
	 */
	static ReliableEndpoint read(MessageListenerContainer container, KafkaListenerEndpoint endpoint,
			@Nullable Boolean factoryBatch) {
		String id = (container.getListenerId() != null) ? container.getListenerId() : String.valueOf(endpoint.getId());
		Method method = (endpoint instanceof MethodKafkaListenerEndpoint<?, ?> methodEndpoint)
				? methodEndpoint.getMethod() : null;
		ReliableListener annotation = (method != null)
				? AnnotatedElementUtils.findMergedAnnotation(method, ReliableListener.class) : null;
		boolean batch = Boolean.TRUE.equals(endpoint.getBatchListener())
				|| (endpoint.getBatchListener() == null && Boolean.TRUE.equals(factoryBatch));
		if (annotation == null) {
			return new ReliableEndpoint(id, method, batch, "", Ordering.PARTITION, -1, GroupType.CLASSIC);
		}
		return new ReliableEndpoint(id, method, batch, annotation.idempotencyKey(), annotation.ordering(),
				annotation.workers(), annotation.group());
	}

	/**
	 * Read the group type of an endpoint, before its container is created.
	 * @param endpoint the endpoint
	 * @return its {@link ReliableListener#group()}, {@link GroupType#CLASSIC} without the annotation
	 */
	static GroupType groupOf(KafkaListenerEndpoint endpoint) {
		if (endpoint instanceof MethodKafkaListenerEndpoint<?, ?> methodEndpoint && methodEndpoint.getMethod() != null) {
			ReliableListener annotation = AnnotatedElementUtils.findMergedAnnotation(methodEndpoint.getMethod(),
					ReliableListener.class);
			if (annotation != null) {
				return annotation.group();
			}
		}
		return GroupType.CLASSIC;
	}

}
