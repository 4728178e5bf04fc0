package dev.delora.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.sora.SoraConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MethodSpecTest {

    private static final List<String> TARGETS = List.of("query", "value");

    @Test
    void fieldsOverrideTheBenchmarkDefaults() {
        MethodSpec paper = MethodSpec.parse("delora:init_weights=paper");
        assertEquals("delora:init_weights=paper", paper.label());
        AdapterConfig c = paper.config(8, TARGETS, List.of("classifier"));
        DeloraConfig d = assertInstanceOf(DeloraConfig.class, c);
        assertEquals(DeloraInit.PAPER, d.init());
        assertEquals(15f, d.deloraLambda(), "the benchmark's λ");
        assertEquals(0f, d.moduleDropout());
        assertEquals(List.of("classifier"), c.targets().modulesToSave());
        assertEquals(Map.of("delora_lambda", 3e-3), paper.groupLearningRates());

        DeloraConfig zeroB = (DeloraConfig) MethodSpec.parse("delora").config(8, TARGETS, List.of());
        assertEquals(DeloraInit.ZERO_B, zeroB.init());
        assertEquals(paper, MethodSpec.parse("delora-paper"), "the old label is an alias");

        LoraConfig lora = (LoraConfig) MethodSpec.parse("LoRA").config(4, TARGETS, List.of());
        assertEquals(8f, lora.loraAlpha(), "α = 2r");
        assertEquals(0f, lora.loraDropout());
        assertEquals(Map.of(), MethodSpec.parse("lora").groupLearningRates());
        LoraConfig r16 = (LoraConfig) MethodSpec.parse("lora:r=16").config(8, TARGETS, List.of());
        assertEquals(16, r16.r());
        assertEquals(32f, r16.loraAlpha(), "α = 2r of the spec's r");

        SoraConfig sora = (SoraConfig) MethodSpec.parse("sora:sparse_lambda=5").config(8, TARGETS, List.of());
        assertEquals(5f, sora.sparseLambda());
        assertEquals(1e-4f, sora.sparseLambda2());
        assertSame(MethodSpec.BASE, MethodSpec.parse(" base "));
    }

    @Test
    void listsSplitAtMethodsNotFields() {
        List<MethodSpec> specs = MethodSpec.parseList("base,lora,sora:sparse_lambda=5,lora_alpha=8,delora-paper");
        assertEquals(
                List.of("base", "lora", "sora:sparse_lambda=5,lora_alpha=8", "delora:init_weights=paper"),
                specs.stream().map(MethodSpec::label).toList());
        assertEquals(
                specs,
                MethodSpec.parseList(
                        String.join(",", specs.stream().map(MethodSpec::label).toList())),
                "labels read back as the same specs (what a child process gets)");
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.parseList("lora,lora"));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.parseList("r=4,lora"));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.parseList("lora,,delora"));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.parseList(""));
    }

    @Test
    void errorsAreOneLineAndNameWhatIsKnown() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MethodSpec.parse("bogus"));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        for (String name : AdapterMethods.names()) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        String unknownField = assertThrows(
                        IllegalArgumentException.class, () -> MethodSpec.parse("lora:no_such_field=1"))
                .getMessage();
        assertTrue(unknownField.contains("no_such_field"), unknownField);
        String badValue = assertThrows(
                        IllegalArgumentException.class, () -> MethodSpec.parse("delora:delora_lambda=abc"))
                .getMessage();
        assertTrue(badValue.contains("delora_lambda"), badValue);
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.parse("lora:target_modules=x"));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.parse("base:r=4"));
    }

    @Test
    void commandLineReportsUsageErrorsInOneLine() {
        for (String[] args : List.of(
                new String[] {"--methods", "lora,bogus"},
                new String[] {"--rank", "x"},
                new String[] {"--soak-method", "bogus"},
                new String[] {"--sections", "nope"},
                new String[] {"--batch-methods", "x:lora"},
                new String[] {"--warmup", "-1"})) {
            CommandLine cl = BenchmarkMain.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            assertEquals(2, cl.execute(args), List.of(args).toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
        }
        String help = BenchmarkMain.commandLine().getUsageMessage();
        for (String option : List.of(
                "--methods",
                "--batch-methods",
                "--sections",
                "--no-fork",
                "--child",
                "--method",
                "--batch",
                "--soak-method",
                "--results",
                "--peft",
                "--json")) {
            assertTrue(help.contains(option + " ") || help.contains(option + "="), option);
        }
    }

    @Test
    void childArgumentsParseToTheSameOptions() {
        BenchmarkMain o = BenchmarkMain.parse(List.of("--methods", "lora,delora:init_weights=paper", "--rank", "4"));
        BenchmarkMain child = BenchmarkMain.parse(o.childArgs());
        assertEquals(o.methods, child.methods);
        assertEquals(4, child.rank);
        assertEquals(o.soakMethod, child.soakMethod);
    }

    private static <T> T assertInstanceOf(Class<T> type, Object o) {
        assertTrue(type.isInstance(o), () -> "expected a " + type.getSimpleName() + ", got " + o);
        return type.cast(o);
    }
}
