package io.github.reliablekafka.outbox;

/**
 * H2: the array-aggregate admission (see {@link ArrayAggregateOutboxDialect}); everything else standard.
 */
final class H2OutboxDialect extends ArrayAggregateOutboxDialect {

}
