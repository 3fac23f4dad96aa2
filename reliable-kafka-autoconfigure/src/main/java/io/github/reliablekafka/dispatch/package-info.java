/**
 * The key-ordered dispatcher: records of a partition hashed by key onto worker lanes, the same key always in order
 * on one lane, different keys in parallel, offsets committed only up to the highest contiguously finished record.
 */
@NullMarked
package io.github.reliablekafka.dispatch;

import org.jspecify.annotations.NullMarked;
