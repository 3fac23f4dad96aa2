package io.github.reliablekafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Package rules: capabilities are free of cycles, runtime code never reaches into the auto-configuration, the internal
 * helpers depend on no capability, every package is documented, the outbox template reaches the relay only through its port,
 * every public type is named on the architecture page, and no class under
 * {@code src/main} (of any module) has more than 400 lines.
 */
class ArchitectureTests {

	private static final JavaClasses CLASSES = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("io.github.reliablekafka");

	@Test
	void capabilityPackagesHaveNoCycles() {
		slices().matching("io.github.reliablekafka.(*)..").should().beFreeOfCycles().check(CLASSES);
	}

	@Test
	void autoConfigurationPackagesHaveNoCycles() {
		slices().matching("io.github.reliablekafka.autoconfigure.(*)..").should().beFreeOfCycles().check(CLASSES);
	}

	@Test
	void runtimeCodeNeverImportsAutoConfiguration() {
		noClasses().that()
			.resideOutsideOfPackage("io.github.reliablekafka.autoconfigure..")
			.should()
			.dependOnClassesThat()
			.resideInAPackage("io.github.reliablekafka.autoconfigure..")
			.check(CLASSES);
	}

	@Test
	void theInternalHelpersDependOnNoCapability() {
		noClasses().that()
			.resideInAPackage("io.github.reliablekafka.internal..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.github.reliablekafka.autoconfigure..", "io.github.reliablekafka.producer..",
					"io.github.reliablekafka.outbox..", "io.github.reliablekafka.consumer..",
					"io.github.reliablekafka.idempotency..", "io.github.reliablekafka.dispatch..",
					"io.github.reliablekafka.delay..", "io.github.reliablekafka.doctor..",
					"io.github.reliablekafka.observe..")
			.check(CLASSES);
	}

	@Test
	void autoConfigurationsArePublicFinalAndNothingElseInThemIsPublic() {
		com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes()
			.that()
			.areAnnotatedWith(org.springframework.boot.autoconfigure.AutoConfiguration.class)
			.should()
			.bePublic()
			.andShould()
			.haveModifier(com.tngtech.archunit.core.domain.JavaModifier.FINAL)
			.check(CLASSES);
		noClasses().that()
			.areAnnotatedWith(org.springframework.context.annotation.Configuration.class)
			.and()
			.areNotAnnotatedWith(org.springframework.boot.autoconfigure.AutoConfiguration.class)
			.and()
			.resideInAPackage("io.github.reliablekafka.autoconfigure..")
			.should()
			.bePublic()
			.check(CLASSES);
	}

	@Test
	void everyPackageHasAPackageInfo() {
		CLASSES.stream()
			.map((javaClass) -> javaClass.getPackageName())
			.distinct()
			.forEach((name) -> org.assertj.core.api.Assertions
				.assertThat(CLASSES.stream().anyMatch((c) -> c.getName().equals(name + ".package-info")))
				.as("package-info.java in %s", name)
				.isTrue());
	}

	@Test
	void theOutboxTemplateReachesTheRelayOnlyThroughItsPort() {
		noClasses().that()
			.haveSimpleName("OutboxReliableKafkaTemplate")
			.should()
			.callMethodWhere(DescribedPredicate.describe("a method of OutboxRelay other than port()",
					(JavaMethodCall call) -> call.getTargetOwner().getSimpleName().equals("OutboxRelay")
							&& !call.getName().equals("port")))
			.check(CLASSES);
	}

	/**
	 * The public types are the ones users touch, plus the seams between packages, and the architecture page names every
	 * one: a type made public without a reason, or a page that names a type no longer public, fails here.
	 */
	@Test
	void everyPublicTypeIsNamedOnTheArchitecturePage() throws IOException {
		String page = Files.readString(Path.of("..", "docs", "architecture.md"));
		int start = page.indexOf("## What is public");
		org.assertj.core.api.Assertions.assertThat(start).as("the section on the page").isNotNegative();
		int end = page.indexOf("\n## ", start + 1);
		String section = page.substring(start, (end < 0) ? page.length() : end);
		java.util.Set<String> named = new java.util.TreeSet<>();
		java.util.regex.Matcher names = java.util.regex.Pattern.compile("`([A-Z][A-Za-z0-9]*)`").matcher(section);
		while (names.find()) {
			named.add(names.group(1));
		}
		java.util.Set<String> runtime = new java.util.TreeSet<>();
		java.util.Set<String> publicRuntime = new java.util.TreeSet<>();
		CLASSES.stream()
			.filter((type) -> type.isTopLevelClass() && !type.getSimpleName().equals("package-info"))
			.filter((type) -> !type.getPackageName().startsWith("io.github.reliablekafka.autoconfigure")
					&& !type.getPackageName().startsWith("io.github.reliablekafka.internal"))
			.forEach((type) -> {
				runtime.add(type.getSimpleName());
				if (type.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)) {
					publicRuntime.add(type.getSimpleName());
				}
			});
		named.retainAll(runtime);
		System.out.printf("%d runtime types, %d public, %d named on the page%n", runtime.size(), publicRuntime.size(),
				named.size());
		org.assertj.core.api.Assertions.assertThat(named).as("types named public on the architecture page")
			.containsExactlyInAnyOrderElementsOf(publicRuntime);
	}

	@Test
	void noClassUnderSrcMainHasMoreThan400Lines() throws IOException {
		Map<String, Long> over = new TreeMap<>();
		int checked = 0;
		for (Path module : List.of(Path.of("."), Path.of("..", "reliable-kafka-samples"))) {
			try (Stream<Path> files = Files.walk(module)) {
				for (Path file : files.filter((path) -> path.toString().endsWith(".java")
						&& path.toString().contains("src" + java.io.File.separator + "main")).toList()) {
					checked++;
					long lines;
					try (Stream<String> text = Files.lines(file)) {
						lines = text.count();
					}
					if (lines > 400) {
						over.put(file.toString(), lines);
					}
				}
			}
		}
		System.out.printf("%d classes under src/main checked, %d over 400 lines%n", checked, over.size());
		org.assertj.core.api.Assertions.assertThat(checked).isGreaterThan(100);
		org.assertj.core.api.Assertions.assertThat(over).as("classes over 400 lines").isEmpty();
	}

}
