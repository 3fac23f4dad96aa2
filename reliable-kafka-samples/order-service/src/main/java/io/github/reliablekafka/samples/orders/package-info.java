/**
 * The order-service sample.
 */
@NullMarked
package io.github.reliablekafka.samples.orders;

import org.jspecify.annotations.NullMarked;
