/**
 * Spring Boot auto-configuration: one auto-configuration per capability, in a package mirroring the capability's.
 */
@NullMarked
package io.github.reliablekafka.autoconfigure;

import org.jspecify.annotations.NullMarked;
