package io.github.reliablekafka.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.alibaba.fastjson2.JSON;
import com.alibaba.fastjson2.JSONArray;
import com.alibaba.fastjson2.JSONObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration metadata users see in their IDE, and the reference table in {@code docs/configuration.md}, say
 * the same thing about every {@code reliable.kafka.*} property.
 */
class ConfigurationMetadataTests {

	private static final Pattern ROW = Pattern.compile("^\\| `(reliable\\.kafka\\.[^`]+)` \\| `([^`]*)` \\| (.*) \\|$");

	@Test
	void everyPropertyHasADescriptionAndADefault() throws IOException {
		Map<String, JSONObject> properties = metadata();
		assertThat(properties).isNotEmpty();
		properties.forEach((name, property) -> {
			assertThat(property.getString("description")).as("description of %s", name).isNotBlank();
			assertThat(property.get("defaultValue")).as("default of %s", name).isNotNull();
		});
	}

	@Test
	void theReferenceTableMatchesTheMetadata() throws IOException {
		Map<String, String[]> documented = new TreeMap<>();
		for (String line : Files.readAllLines(Path.of("..", "docs", "configuration.md"), StandardCharsets.UTF_8)) {
			Matcher row = ROW.matcher(line.trim());
			if (row.matches()) {
				documented.put(row.group(1), new String[] { row.group(2), row.group(3) });
			}
		}
		Map<String, JSONObject> properties = metadata();
		StringBuilder expected = new StringBuilder("| Property | Default | Description |\n| --- | --- | --- |\n");
		properties.forEach((name, property) -> expected.append("| `").append(name).append("` | `")
			.append(render(property.get("defaultValue"))).append("` | ").append(property.getString("description"))
			.append(" |\n"));
		String hint = "docs/configuration.md must say what the metadata says; the table it should hold:\n" + expected;
		assertThat(documented.keySet()).as(hint).isEqualTo(properties.keySet());
		properties.forEach((name, property) -> {
			assertThat(documented.get(name)[0]).as("default of %s in docs/configuration.md\n%s", name, hint)
				.isEqualTo(render(property.get("defaultValue")));
			assertThat(documented.get(name)[1]).as("description of %s in docs/configuration.md\n%s", name, hint)
				.isEqualTo(property.getString("description"));
		});
	}

	static Map<String, JSONObject> metadata() throws IOException {
		try (InputStream in = ConfigurationMetadataTests.class
			.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			JSONArray properties = JSON.parseObject(in.readAllBytes()).getJSONArray("properties");
			return properties.stream()
				.map(JSONObject.class::cast)
				.filter((property) -> property.getString("name").startsWith("reliable.kafka."))
				.collect(Collectors.toMap((property) -> property.getString("name"), (property) -> property, (a, b) -> a,
						TreeMap::new));
		}
	}

	private static String render(Object value) {
		if (value instanceof JSONArray array) {
			return array.stream().map(String::valueOf).collect(Collectors.joining(", "));
		}
		return String.valueOf(value);
	}

}
