-- reliable-kafka dead letters kept for look-up, PostgreSQL. ${table} is replaced with the ledger table's name
-- (reliable.kafka.consumer.idempotency.table) followed by _dead_letter. One row per message id, consumer group and
-- dead letter published, for "where is message X?"; kept as long as the ledger's rows. Times are epoch milliseconds.
CREATE TABLE IF NOT EXISTS ${table} (
    message_id      VARCHAR(36)   NOT NULL,
    consumer_group  VARCHAR(255)  NOT NULL,
    dead_letter     VARCHAR(300)  NOT NULL,
    source          VARCHAR(300)  NOT NULL,
    reason          VARCHAR(500),
    created_at      BIGINT        NOT NULL,
    PRIMARY KEY (message_id, consumer_group, dead_letter)
);
CREATE INDEX IF NOT EXISTS ${table}_created ON ${table} (created_at);
