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
 * helpers depend on no capability, every package is documented, the outbox template reaches the relay only through its port, and no class under
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
