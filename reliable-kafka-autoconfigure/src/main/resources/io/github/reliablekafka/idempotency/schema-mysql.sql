-- reliable-kafka idempotency ledger, MySQL and MariaDB. ${table} is replaced with
-- reliable.kafka.consumer.idempotency.table. One row per consumer group and idempotency key; times are epoch
-- milliseconds (UTC). Group and key are binary strings, compared byte for byte: ORDER-1 and order-1, or k1 and k1
-- with a trailing space, are different keys (the collation of a VARCHAR would make them one key, and the second
-- record would be skipped as a duplicate). A table made by an earlier script needs
-- ALTER TABLE ${table} MODIFY consumer_group VARBINARY(1020) NOT NULL, MODIFY idem_key VARBINARY(1020) NOT NULL
CREATE TABLE IF NOT EXISTS ${table} (
    consumer_group  VARBINARY(1020) NOT NULL,
    idem_key        VARBINARY(1020) NOT NULL,
    status          VARCHAR(10)   NOT NULL,
    claims          INT           NOT NULL,
    created_at      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL,
    PRIMARY KEY (consumer_group, idem_key),
    KEY ${table}_updated (updated_at)
) ENGINE = InnoDB;
