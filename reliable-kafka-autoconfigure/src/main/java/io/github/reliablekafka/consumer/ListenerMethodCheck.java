package io.github.reliablekafka.consumer;

import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

import io.github.reliablekafka.support.ReliableKafkaConfigurationException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;

import org.springframework.expression.ParseException;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.kafka.listener.adapter.ConsumerRecordMetadata;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.messaging.MessageHeaders;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.messaging.handler.annotation.Headers;
import org.springframework.messaging.handler.annotation.Payload;

/**
 * Checks a {@link ReliableListener} method at startup, so that a signature the library cannot serve stops the
 * application naming the class and method, instead of starting and sending every record to the dead-letter topic:
 * more than one payload parameter, a batch signature or a batch factory, an asynchronous return type (the record
 * would be committed, and its idempotency row written, before the work is done), an {@code idempotencyKey} that does
 * not parse.
 */
final class ListenerMethodCheck {

	/** Types spring-kafka fills in from the record or the container, never from the payload. */
	private static final List<Class<?>> NOT_PAYLOAD = List.of(ConsumerRecord.class, Consumer.class,
			Acknowledgment.class, MessageHeaders.class, ConsumerRecordMetadata.class);

	/** Return types whose work may still run when the method returns. */
	private static final Set<String> ASYNC_TYPES = Set.of("reactor.core.publisher.Mono", "reactor.core.publisher.Flux",
			"kotlinx.coroutines.Deferred");

	private ListenerMethodCheck() {
	}

	/**
	 * Check a method.
	 * @param method the listener method
	 * @param batch whether the container would deliver batches (the factory's or the endpoint's setting)
	 * @param idempotencyKey the method's key expression, empty for none
	 * @throws ReliableKafkaConfigurationException naming the method and what to change
	 */
	static void check(Method method, boolean batch, String idempotencyKey) {
		String name = method.getDeclaringClass().getSimpleName() + "." + method.getName();
		if (batch) {
			refuse(name, "is on a batch container (spring.kafka.listener.type=batch, or batch = \"true\"): reliable "
					+ "listeners receive one record at a time, committed after it is done.",
					"Remove spring.kafka.listener.type=batch and mark the listeners that want batches "
							+ "@KafkaListener(batch = \"true\") on a container factory of your own.");
		}
		List<String> payloads = new ArrayList<>();
		for (Parameter parameter : method.getParameters()) {
			if (isPayload(parameter)) {
				payloads.add(parameter.getType().getSimpleName() + " " + parameter.getName());
			}
			Class<?> type = parameter.getType();
			if (!parameter.isAnnotationPresent(Header.class) && !parameter.isAnnotationPresent(Headers.class)
					&& (Collection.class.isAssignableFrom(type) || ConsumerRecords.class.isAssignableFrom(type))) {
				refuse(name, "takes " + parameter.getParameterizedType().getTypeName() + " " + parameter.getName()
						+ ": a collection parameter makes a batch listener, and reliable listeners receive one record "
						+ "at a time.", "Take one record's payload; if a record's value is a JSON array, declare an "
								+ "array type (Order[]) or a type that holds the list.");
			}
			if (type.getName().equals("kotlin.coroutines.Continuation")) {
				refuse(name, "is a suspend function: it returns before its work is done, and the record would be "
						+ "committed first.", "Make it a plain function.");
			}
		}
		if (payloads.size() > 1) {
			refuse(name, "has " + payloads.size() + " payload parameters (" + String.join(", ", payloads)
					+ "): a record has one payload, and every parameter not marked otherwise is read from it.",
					"Keep one payload parameter; annotate the others with @Header(\"...\") (or @Headers), or take "
							+ "the ConsumerRecord<String, byte[]>.");
		}
		Class<?> returns = method.getReturnType();
		if (Future.class.isAssignableFrom(returns) || CompletionStage.class.isAssignableFrom(returns)
				|| ASYNC_TYPES.contains(returns.getName())) {
			refuse(name, "returns " + returns.getSimpleName() + ": the record would be committed, and its idempotency "
					+ "row written, before that work completes.", "Return void (or a value), finishing the work "
							+ "before the method returns: join the future, or block on the Mono.");
		}
		if (!idempotencyKey.isBlank()) {
			try {
				new SpelExpressionParser().parseExpression(idempotencyKey);
			}
			catch (ParseException ex) {
				refuse(name, "has idempotencyKey \"" + idempotencyKey + "\", which does not parse: " + ex.getMessage(),
						"Correct the SpEL expression (over #payload, #record and #headers), for example "
								+ "\"#payload.orderId\".");
			}
		}
	}

	private static boolean isPayload(Parameter parameter) {
		if (parameter.isAnnotationPresent(Payload.class)) {
			return true;
		}
		if (parameter.isAnnotationPresent(Header.class) || parameter.isAnnotationPresent(Headers.class)) {
			return false;
		}
		Class<?> type = parameter.getType();
		return NOT_PAYLOAD.stream().noneMatch((notPayload) -> notPayload.isAssignableFrom(type))
				&& !type.getName().equals("kotlin.coroutines.Continuation");
	}

	private static void refuse(String method, String problem, String action) {
		throw new ReliableKafkaConfigurationException("Reliable listener method " + method + " " + problem, action);
	}

}
