package io.github.reliablekafka;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Package rules: capabilities are free of cycles, runtime code never reaches into the auto-configuration, and every
 * package is documented.
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

}
