package io.github.reliablekafka.internal;

/**
 * Marks the listener container of a share-group listener, for the parts of the library that act on consumer groups
 * (replay moves committed offsets, which a share group does not have).
 */
public interface ShareGroupContainer {

}
