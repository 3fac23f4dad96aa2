/**
 * Auto-configuration of the reliable producer.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure.producer;

import org.jspecify.annotations.NullMarked;
