package io.github.reliablekafka.idempotency;

/**
 * Where a record's idempotency key comes from.
 */
public enum IdempotencyKeyStrategy {

	/** The {@code rk-id} header; a record without one falls back to {@link #PAYLOAD_HASH}. */
	MESSAGE_ID,

	/** SHA-256 of the topic, the key and the value. */
	PAYLOAD_HASH,

	/** A SpEL expression per listener ({@code @ReliableListener(idempotencyKey = ...)}). */
	EXPRESSION

}
