/**
 * Not an API: helpers the capability packages share (Kafka error classification, client defaults, the shared admin
 * client, the library's tables, log text, back-off arithmetic, seeks). They are public only because Java has no
 * narrower visibility across packages; they change without notice. What users touch is in the capability packages
 * and in {@code io.github.reliablekafka.support} (header names, the payload codec, schema initialization).
 */
@NullMarked
package io.github.reliablekafka.internal;

import org.jspecify.annotations.NullMarked;
