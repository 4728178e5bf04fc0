package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link WeightedAdapters} against PEFT 0.21.2's {@code add_weighted_adapter} ({@code parity/weighted_adapters.py},
 * fixture set {@code weighted/}): the same three source adapters loaded here, combined with the same weights, give
 * PEFT's factors (linear, cat), PEFT's dense updates (svd, whose factor signs are arbitrary) and PEFT's logits.
 */
class WeightedAdaptersTest {

    private static final List<Double> WEIGHTS = List.of(0.7, -0.4);
    static NDManager manager;
    static Map<String, NDArray> golden;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        golden = Safetensors.load(manager, Fixtures.path("weighted/golden.safetensors"));
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static AdaptedModel sources() throws Exception {
        return sources(manager, "a", "b", "c");
    }

    /** The fixture base with the named source adapters of {@code weighted/} loaded, the first one active. */
    static AdaptedModel sources(NDManager manager, String first, String... more) throws Exception {
        var base = HfModels.sequenceClassifier(Fixtures.dir("peft/base"), manager, null);
        AdaptedModel model = PeftAdapters.load(base.block(), Fixtures.dir("weighted/" + first), first);
        for (String name : more) {
            PeftAdapters.load(model, Fixtures.dir("weighted/" + name), name);
        }
        return model;
    }

    static float maxDiff(NDArray a, NDArray b) {
        assertEquals(a.getShape(), b.getShape());
        return a.sub(b).abs().max().getFloat();
    }

    static void assertLogits(AdaptedModel model, String name) {
        model.setAdapter(name);
        NDList in = new NDList(golden.get("input_ids"), golden.get("attention_mask"));
        NDArray logits = model.block()
                .forward(new ParameterStore(manager, false), in, false)
                .head();
        float d = maxDiff(golden.get("logits_" + name), logits);
        assertTrue(d <= 1e-4, name + ": logits differ from PEFT's by " + d);
    }

    /** Every adapted module's ΔW equals PEFT's get_delta_weight of the combined adapter. */
    static void assertDeltas(AdaptedModel model, String name, double tol) {
        int n = 0;
        for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
            var a = e.getValue().adapters().get(name);
            if (a == null) {
                continue;
            }
            NDArray expected = golden.get("delta." + name + "." + e.getKey());
            try (NDArray delta = a.deltaWeight()) {
                float d = maxDiff(expected, delta);
                assertTrue(d <= tol, name + " " + e.getKey() + ": ΔW differs from PEFT's by " + d);
            }
            n++;
        }
        assertEquals(
                golden.keySet().stream()
                        .filter(k -> k.startsWith("delta." + name + "."))
                        .count(),
                n);
    }

    /** The combined adapter's tensors and config equal PEFT's saved ones (for the deterministic combinations). */
    static void assertLikePeftFolder(AdaptedModel model, String name, boolean compareFactors, Path tmp)
            throws Exception {
        Path ours = PeftAdapters.save(model, name, tmp, new PeftAdapters.Metadata(null, null)); // as PEFT: no task
        LoraConfig theirs = (LoraConfig) PeftAdapters.load(
                        HfModels.sequenceClassifier(Fixtures.dir("peft/base"), manager, null)
                                .block(),
                        Fixtures.dir("weighted/" + name))
                .adapters()
                .get(AdaptedModel.DEFAULT_ADAPTER);
        LoraConfig mine = (LoraConfig) model.adapters().get(name);
        assertEquals(theirs.r(), mine.r());
        assertEquals(theirs.loraAlpha(), mine.loraAlpha());
        assertEquals(
                Set.copyOf(theirs.targets().targetModules().names()),
                Set.copyOf(mine.targets().targetModules().names()));
        assertTrue(mine.rankPattern().isEmpty() && mine.alphaPattern().isEmpty());
        if (compareFactors) {
            Map<String, NDArray> expected =
                    Safetensors.load(manager, Fixtures.path("weighted/" + name + "/adapter_model.safetensors"));
            Map<String, NDArray> got = Safetensors.load(manager, ours.resolve(PeftAdapters.WEIGHTS_FILE));
            assertEquals(expected.keySet(), got.keySet());
            expected.forEach((k, v) -> assertTrue(maxDiff(v, got.get(k)) <= 1e-6, k));
        }
    }

    @Test
    void linearMatchesPeft(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        AdaptedModel model = sources();
        WeightedAdapters.add(model, List.of("a", "b"), WEIGHTS, "linear_ab", "linear");
        assertFalse("linear_ab".equals(model.activeAdapter()), "the new adapter is added inactive, as in PEFT");
        assertDeltas(model, "linear_ab", 1e-5);
        assertLikePeftFolder(model, "linear_ab", true, tmp);
        assertLogits(model, "linear_ab");
    }

    @Test
    void catMatchesPeft(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        AdaptedModel model = sources();
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "cat_ac", "cat");
        assertDeltas(model, "cat_ac", 1e-5);
        assertLikePeftFolder(model, "cat_ac", true, tmp);
        assertLogits(model, "cat_ac");
    }

    @Test
    void svdMatchesPeftUpToSigns(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        AdaptedModel model = sources();
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "svd_ac", "svd");
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "svd_ac_r3", WeightedAdapters.Combination.SVD, 3, null);
        assertDeltas(model, "svd_ac", 1e-5);
        assertDeltas(model, "svd_ac_r3", 1e-5);
        assertLikePeftFolder(model, "svd_ac", false, tmp);
        assertLikePeftFolder(model, "svd_ac_r3", false, tmp);
        assertLogits(model, "svd_ac");
        assertLogits(model, "svd_ac_r3");
    }

    @Test
    void oneAdapterIsAlwaysLinear() throws Exception {
        AdaptedModel model = sources();
        WeightedAdapters.add(model, List.of("a"), List.of(0.5), "single_a", "svd");
        assertDeltas(model, "single_a", 1e-5);
        assertLogits(model, "single_a");
    }

    @Test
    void svdClampClipsToTheQuantileOfTheFactors() throws Exception {
        AdaptedModel model = sources();
        var svd = WeightedAdapters.Combination.SVD;
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "plain", svd, 3, null);
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "clamped", svd, 3, 0.9);
        for (AdaptedLinear m : model.adaptedModules().values()) {
            try (var p = m.adapters().get("plain").toLora();
                    var c = m.adapters().get("clamped").toLora()) {
                // torch.quantile(cat(U·S, Vh), 0.9), linear interpolation (same seed: same signs as "plain")
                float[] x = NDArrays.concat(new NDList(p.b().flatten(), p.a().flatten()))
                        .toFloatArray();
                java.util.Arrays.sort(x);
                double pos = 0.9 * (x.length - 1);
                int lo = (int) pos;
                float hi = (float) (x[lo] + (x[lo + 1] - x[lo]) * (pos - lo));
                assertTrue(maxDiff(p.a().clip(-hi, hi), c.a()) <= 1e-6);
                assertTrue(maxDiff(p.b().clip(-hi, hi), c.b()) <= 1e-6);
                assertTrue(p.b().abs().max().getFloat() > hi, "the clamp must bite somewhere");
            }
        }
    }

    @Test
    void rejectsWhatPeftRejects() throws Exception {
        AdaptedModel model = sources();
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "x", "linear"));
        assertTrue(e.getMessage().contains("same r value"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "nope"), WEIGHTS, "x", "cat"));
        assertTrue(e.getMessage().contains("nope does not exist"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "b"), WEIGHTS, "c", "cat"));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "b"), WEIGHTS, "x", "ties"));
        assertTrue(e.getMessage().contains("ties needs density"), e.getMessage()); // WeightedAdaptersPruningTest
        e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "b"), List.of(1.0), "x", "cat"));
        assertTrue(e.getMessage().contains("one weight per adapter"), e.getMessage());
        assertEquals(Set.of("a", "b", "c"), model.adapters().keySet(), "nothing added");
    }

    @Test
    void otherMethodsCombineThroughTheirLoraForm() throws Exception {
        AdaptedModel model = sources();
        model.addAdapter(
                "delora",
                DeloraConfig.builder().r(2).targetModules("query", "value").build());
        // fresh DeLoRA has B = 0; move it so the combination is visible
        for (AdaptedLinear m : model.adaptedModules().values()) {
            var p = m.adapters().get("delora");
            if (p != null) {
                p.parameters().get("delora_B").getArray().addi(0.3f);
            }
        }
        WeightedAdapters.add(model, List.of("a", "delora"), WEIGHTS, "mix", "cat");
        for (AdaptedLinear m : model.adaptedModules().values()) {
            var mix = m.adapters().get("mix");
            if (mix == null) {
                continue;
            }
            try (NDArray da = m.adapters().get("a").deltaWeight();
                    NDArray dd = m.adapters().get("delora").deltaWeight();
                    NDArray expected = da.mul(0.7).add(dd.mul(-0.4));
                    NDArray got = mix.deltaWeight()) {
                assertTrue(maxDiff(expected, got) <= 1e-5);
            }
        }
        model.addAdapter(
                "dora",
                new DoraConfig(LoraConfig.builder()
                        .r(4)
                        .targetModules("query", "value")
                        .build()));
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "dora"), WEIGHTS, "y", "svd"));
        assertTrue(e.getMessage().contains("no exact plain-LoRA form"), e.getMessage());
        assertFalse(model.adapters().containsKey("y"));
    }

    @Test
    void svdAtFullRankIsTheExactSumEvenWhereAModuleHasLessRank() throws Exception {
        AdaptedModel model = sources();
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "exact", "cat");
        // rank 6: the value modules (only a, rank 4) and key modules (only c, rank 2) have ΔW of lower rank
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "svd6", WeightedAdapters.Combination.SVD, 6, null);
        for (AdaptedLinear m : model.adaptedModules().values()) {
            try (NDArray exact = m.adapters().get("exact").deltaWeight();
                    NDArray svd = m.adapters().get("svd6").deltaWeight()) {
                assertTrue(maxDiff(exact, svd) <= 1e-5);
                assertEquals(6, m.adapters().get("svd6").rank());
            }
        }
    }

    @Test
    void regexTargetsAreJoinedAndMixedTargetTypesRejected() throws Exception {
        AdaptedModel model = sources();
        model.addAdapter(
                "r1", LoraConfig.builder().r(4).targetModulesRegex(".*\\.query").build());
        model.addAdapter(
                "r2",
                LoraConfig.builder()
                        .r(4)
                        .targetModulesRegex(".*layer\\.1.*\\.value")
                        .build());
        WeightedAdapters.add(model, List.of("r1", "r2"), WEIGHTS, "joined", "linear");
        assertEquals(
                "(.*\\.query)|(.*layer\\.1.*\\.value)",
                model.adapters().get("joined").targets().targetModules().regex());
        assertEquals(
                3, // both query modules and the value module of layer 1
                model.adaptedModules().values().stream()
                        .filter(m -> m.adapters().containsKey("joined"))
                        .count());
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "r1"), WEIGHTS, "mixed", "cat"));
        assertTrue(e.getMessage().contains("mix of list/set and string"), e.getMessage());
    }

    /**
     * With {@code -Dparity.out=DIR}: the combinations saved with {@link PeftAdapters#saveAll} for PEFT to load
     * ({@code src-test-fixtures/parity/README.md}, "add_weighted_adapter").
     */
    @Test
    void exportForPeft() throws Exception {
        String out = System.getProperty("parity.out");
        org.junit.jupiter.api.Assumptions.assumeTrue(out != null, "set -Dparity.out to export");
        AdaptedModel model = sources();
        WeightedAdapters.add(model, List.of("a", "b"), WEIGHTS, "linear_ab", "linear");
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "cat_ac", "cat");
        WeightedAdapters.add(model, List.of("a", "c"), WEIGHTS, "svd_ac", "svd");
        PeftAdapters.saveAll(model, Path.of(out), new PeftAdapters.Metadata(null, "base"));
    }
}
