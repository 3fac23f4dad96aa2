package io.github.reliablekafka.consumer;

import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.Type;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.support.Acknowledgment;
import org.springframework.messaging.Message;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Headers;
import org.springframework.messaging.handler.annotation.Payload;

/**
 * Reads listener method signatures.
 */
final class ListenerMethods {

	private ListenerMethods() {
	}

	/**
	 * Return the type of a listener method's payload parameter: the one annotated {@code @Payload}, else the first
	 * that is not a header, the record, the consumer or the acknowledgment.
	 * @return the type, or {@code null} when the method takes no payload
	 */
	static @Nullable Type payloadType(Method method) {
		for (Parameter parameter : method.getParameters()) {
			if (parameter.isAnnotationPresent(Payload.class)) {
				return parameter.getParameterizedType();
			}
		}
		for (Parameter parameter : method.getParameters()) {
			Class<?> type = parameter.getType();
			if (!parameter.isAnnotationPresent(Header.class) && !parameter.isAnnotationPresent(Headers.class)
					&& !ConsumerRecord.class.isAssignableFrom(type) && !Consumer.class.isAssignableFrom(type)
					&& !Acknowledgment.class.isAssignableFrom(type) && !Message.class.isAssignableFrom(type)) {
				return parameter.getParameterizedType();
			}
		}
		return null;
	}

}
