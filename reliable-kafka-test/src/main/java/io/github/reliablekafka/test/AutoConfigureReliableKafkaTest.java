package io.github.reliablekafka.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.autoconfigure.ImportAutoConfiguration;

/**
 * Put on a {@code @SpringBootTest} of an application that uses reliable-kafka: Kafka is an in-JVM broker unless the
 * test names one (a {@code @ServiceConnection} Kafka container where Docker exists, or
 * {@code spring.kafka.bootstrap-servers}), and a {@link ReliableKafkaAwait} bean waits for the outbox to drain and
 * for listeners to handle records.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ImportAutoConfiguration(ReliableKafkaTestAutoConfiguration.class)
public @interface AutoConfigureReliableKafkaTest {

}
