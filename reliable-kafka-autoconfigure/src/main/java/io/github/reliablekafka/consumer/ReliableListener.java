package io.github.reliablekafka.consumer;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import io.github.reliablekafka.dispatch.Ordering;

import org.springframework.core.annotation.AliasFor;
import org.springframework.kafka.annotation.KafkaListener;

/**
 * Marks a method as a reliable Kafka listener: a {@link KafkaListener} on the
 * {@value #CONTAINER_FACTORY} container factory, so that
 * <ul>
 * <li>offsets are committed only after the method returned (auto-commit is off and cannot be turned on);</li>
 * <li>a failure is retried with exponential back-off ({@code reliable.kafka.consumer.retry.*}), then the record goes
 * to the dead-letter topic {@code <topic>.DLT} with the reason in its headers, and its offset is committed;</li>
 * <li>poison input never blocks the partition: a payload that cannot be read as the declared type, or a
 * {@link NonRetryableException}, goes to the dead-letter topic at once;</li>
 * <li>a null or empty payload is skipped and logged (or dead-lettered, or delivered:
 * {@code reliable.kafka.consumer.null-payload}).</li>
 * </ul>
 * The payload parameter is read with the application's {@code PayloadCodec} (fastjson2 by default, autoType never
 * enabled) into its declared type; {@code String}, {@code byte[]} and {@code ConsumerRecord<String, byte[]>} are
 * passed as they are, and {@code @Header("rk-id") String} gives the message id. Plain {@link KafkaListener}
 * methods keep working unchanged.
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@KafkaListener(containerFactory = ReliableListener.ROUTER)
public @interface ReliableListener {

	/** The name of the container factory bean of reliable listeners in consumer groups. */
	String CONTAINER_FACTORY = "reliableKafkaListenerContainerFactory";

	/** The name of the container factory bean of reliable listeners in share groups. */
	String SHARE_CONTAINER_FACTORY = "reliableKafkaShareListenerContainerFactory";

	/**
	 * The name of the container factory bean this annotation names: it passes each endpoint to the
	 * {@value #CONTAINER_FACTORY} or the {@value #SHARE_CONTAINER_FACTORY}, by its {@link #group()}.
	 */
	String ROUTER = "reliableKafkaListenerRouter";

	/**
	 * The listener id, also the consumer group when {@link #groupId()} is not set.
	 * @return the id
	 * @see KafkaListener#id()
	 */
	@AliasFor(annotation = KafkaListener.class, attribute = "id")
	String id() default "";

	/**
	 * The topics to listen to.
	 * @return the topics
	 * @see KafkaListener#topics()
	 */
	@AliasFor(annotation = KafkaListener.class, attribute = "topics")
	String[] topics() default {};

	/**
	 * A pattern of topics to listen to.
	 * @return the pattern
	 * @see KafkaListener#topicPattern()
	 */
	@AliasFor(annotation = KafkaListener.class, attribute = "topicPattern")
	String topicPattern() default "";

	/**
	 * The consumer group.
	 * @return the group id
	 * @see KafkaListener#groupId()
	 */
	@AliasFor(annotation = KafkaListener.class, attribute = "groupId")
	String groupId() default "";

	/**
	 * The number of consumer threads.
	 * @return the concurrency
	 * @see KafkaListener#concurrency()
	 */
	@AliasFor(annotation = KafkaListener.class, attribute = "concurrency")
	String concurrency() default "";

	/**
	 * Whether the listener starts with the application.
	 * @return {@code "true"} or {@code "false"}, or empty for the factory's setting
	 * @see KafkaListener#autoStartup()
	 */
	@AliasFor(annotation = KafkaListener.class, attribute = "autoStartup")
	String autoStartup() default "";

	/**
	 * Consumer properties for this listener, as {@code key=value}; {@code enable.auto.commit=true} is refused.
	 * @return the properties
	 * @see KafkaListener#properties()
	 */
	@AliasFor(annotation = KafkaListener.class, attribute = "properties")
	String[] properties() default {};

	/**
	 * A SpEL expression that gives a record's idempotency key, over {@code #payload} (the value read into the
	 * payload parameter's type), {@code #record} and {@code #headers}, for example
	 * {@code "{#payload.orderId, #payload.status}"} (a list: its parts are kept apart in the key). It runs in a
	 * read-only data-binding context (no types, constructors or assignments). Empty for
	 * {@code reliable.kafka.consumer.idempotency.key} (the message id by default).
	 * @return the expression
	 */
	String idempotencyKey() default "";

	/**
	 * How the records of one partition are processed: {@link Ordering#PARTITION} (default) one at a time on the
	 * consumer thread; {@link Ordering#KEY} hashed by key onto lanes served by {@link #workers()} workers per
	 * partition, the same key always on the same lane and in order, different keys in parallel, offsets committed up
	 * to the highest contiguously finished record; {@link Ordering#NONE} spread over the lanes with no order.
	 * @return the ordering
	 */
	Ordering ordering() default Ordering.PARTITION;

	/**
	 * Workers per assigned partition with {@link Ordering#KEY} or {@link Ordering#NONE}: how many of a partition's
	 * records run at once. Keys are hashed onto four lanes per worker (one lane when 1), and a worker serves whichever
	 * lane is ready next. {@code -1} for {@code reliable.kafka.consumer.dispatch.workers} (16 by default).
	 * @return the workers per partition
	 */
	int workers() default -1;

	/**
	 * The kind of group the listener reads in: {@link GroupType#CLASSIC} (default), a consumer group, or
	 * {@link GroupType#SHARE}, a share group (Kafka 4.2 queues: consumers share the partitions, records are
	 * acknowledged one by one, no order). A share-group listener takes one record at a time and keeps
	 * {@link #ordering()} at {@link Ordering#PARTITION}, the default; {@link #concurrency()} is its number of share
	 * consumers.
	 * @return the group type
	 */
	GroupType group() default GroupType.CLASSIC;

}
