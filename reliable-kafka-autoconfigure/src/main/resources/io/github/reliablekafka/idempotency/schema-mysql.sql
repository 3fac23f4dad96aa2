-- reliable-kafka idempotency ledger, MySQL and MariaDB. ${table} is replaced with
-- reliable.kafka.consumer.idempotency.table. One row per consumer group and idempotency key; times are epoch
-- milliseconds (UTC).
CREATE TABLE IF NOT EXISTS ${table} (
    consumer_group  VARCHAR(255)  NOT NULL,
    idem_key        VARCHAR(255)  NOT NULL,
    status          VARCHAR(10)   NOT NULL,
    claims          INT           NOT NULL,
    created_at      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL,
    PRIMARY KEY (consumer_group, idem_key),
    KEY ${table}_updated (updated_at)
) ENGINE = InnoDB;
