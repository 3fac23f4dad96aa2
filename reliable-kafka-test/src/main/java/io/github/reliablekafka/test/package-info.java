/**
 * Test support for applications that use reliable-kafka: {@link io.github.reliablekafka.test.AutoConfigureReliableKafkaTest}
 * on a {@code @SpringBootTest}, the {@link io.github.reliablekafka.test.InJvmKafka} broker and the waits of
 * {@link io.github.reliablekafka.test.ReliableKafkaAwait}.
 */
@NullMarked
package io.github.reliablekafka.test;

import org.jspecify.annotations.NullMarked;
