-- reliable-kafka transactional outbox, MySQL and MariaDB. ${table} is replaced with reliable.kafka.outbox.table.
-- sent_partition and sent_offset say where Kafka wrote a SENT row (shown by the look-up by rk-id); a table made by an
-- earlier script works without them: ALTER TABLE ${table} ADD COLUMN sent_partition INT; and sent_offset BIGINT.
-- Times are epoch milliseconds (UTC).
CREATE TABLE IF NOT EXISTS ${table} (
    id              BIGINT        NOT NULL AUTO_INCREMENT,
    message_id      VARCHAR(36)   NOT NULL,
    topic           VARCHAR(249)  NOT NULL,
    message_key     VARCHAR(1024),
    key_hash        BIGINT,
    payload         LONGBLOB,
    headers         BLOB,
    created_at      BIGINT        NOT NULL,
    not_before      BIGINT        NOT NULL,
    next_attempt_at BIGINT        NOT NULL,
    attempts        INT           NOT NULL DEFAULT 0,
    last_error      VARCHAR(2000),
    status          VARCHAR(8)    NOT NULL,
    lease_owner     VARCHAR(64),
    lease_until     BIGINT,
    sent_at         BIGINT,
    sent_partition  INT,
    sent_offset     BIGINT,
    PRIMARY KEY (id),
    UNIQUE KEY ${table}_message_id (message_id),
    KEY ${table}_status (status, id),
    KEY ${table}_key (key_hash, status, id)
) ENGINE = InnoDB;
