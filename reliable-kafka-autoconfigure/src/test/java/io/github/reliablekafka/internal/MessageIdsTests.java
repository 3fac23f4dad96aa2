package io.github.reliablekafka.internal;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MessageIdsTests {

	@Test
	void idsAreUniqueVersion7UuidsThatSortByCreationTime() throws Exception {
		Set<String> ids = new HashSet<>();
		String previousMillisId = MessageIds.next();
		for (int i = 0; i < 100_000; i++) {
			ids.add(MessageIds.next());
		}
		assertThat(ids).hasSize(100_000);
		UUID uuid = UUID.fromString(previousMillisId);
		assertThat(uuid.version()).isEqualTo(7);
		assertThat(uuid.variant()).isEqualTo(2);
		Thread.sleep(2);
		assertThat(MessageIds.next()).isGreaterThan(previousMillisId);
	}

}
