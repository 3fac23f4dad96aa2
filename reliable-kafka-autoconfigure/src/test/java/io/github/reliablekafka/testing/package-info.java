/**
 * The test harness every module uses to prove guarantees on real parts: Kafka in the JVM and as killable
 * processes, Redis, PostgreSQL and MariaDB, and child JVMs for applications a test must kill. Published in the
 * autoconfigure module's test jar.
 */
package io.github.reliablekafka.testing;
