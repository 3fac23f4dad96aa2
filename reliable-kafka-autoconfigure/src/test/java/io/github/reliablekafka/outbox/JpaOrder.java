package io.github.reliablekafka.outbox;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * A business entity that a JPA transaction writes together with its messages ({@link JpaOutboxTests}).
 */
@Entity
@Table(name = "jpa_order")
public class JpaOrder {

	@Id
	private Long id;

	private String note;

	protected JpaOrder() {
	}

	JpaOrder(long id, String note) {
		this.id = id;
		this.note = note;
	}

}
