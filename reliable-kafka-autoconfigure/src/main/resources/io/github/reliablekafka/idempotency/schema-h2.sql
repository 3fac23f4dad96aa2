-- reliable-kafka idempotency ledger. ${table} is replaced with reliable.kafka.consumer.idempotency.table.
-- One row per consumer group and idempotency key; times are epoch milliseconds (UTC).
CREATE TABLE IF NOT EXISTS ${table} (
    consumer_group  VARCHAR(255)  NOT NULL,
    idem_key        VARCHAR(255)  NOT NULL,
    status          VARCHAR(10)   NOT NULL,
    claims          INTEGER       NOT NULL,
    created_at      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL,
    PRIMARY KEY (consumer_group, idem_key)
);
CREATE INDEX IF NOT EXISTS ${table}_updated ON ${table} (updated_at);
