package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.WeightedAdapters.Combination;
import dev.delora.djl.peft.WeightedAdapters.MajoritySign;
import dev.delora.djl.peft.WeightedAdapters.Options;
import dev.delora.fixtures.Fixtures;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pruning combinations of {@link WeightedAdapters} (ties, dare_*, magnitude_prune and their svd forms) against
 * PEFT 0.21.2 ({@code parity/weighted_adapters.py}, {@code weighted/golden_ties.safetensors}): the deterministic ones
 * give PEFT's factors (non-svd), dense updates and logits; DARE, whose masks cannot be torch's, equals its
 * deterministic counterpart at density 1 (as the script asserts for PEFT) and is checked by its properties.
 */
class WeightedAdaptersPruningTest {

    private static final List<Double> W2 = List.of(0.7, -0.4);
    private static final List<Double> W3 = List.of(0.7, -0.4, 0.5);
    static NDManager manager;
    static Map<String, NDArray> golden;
    static Map<String, NDArray> ties;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        golden = Safetensors.load(manager, Fixtures.path("weighted/golden.safetensors"));
        ties = Safetensors.load(manager, Fixtures.path("weighted/golden_ties.safetensors"));
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static AdaptedModel sources() throws Exception {
        return WeightedAdaptersTest.sources(manager, "a", "b", "c", "d");
    }

    static Options options(String type, double density) {
        return Options.of(Combination.parse(type)).withDensity(density);
    }

    static float maxDiff(NDArray a, NDArray b) {
        assertEquals(a.getShape(), b.getShape());
        return a.sub(b).abs().max().getFloat();
    }

    /** Each module's ΔW (and, with {@code factors}, A and B) equals the golden {@code key}'s; the same modules. */
    static void assertLike(AdaptedModel model, String name, Map<String, NDArray> g, String key, boolean factors) {
        int n = 0;
        for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
            LinearAdapter a = e.getValue().adapters().get(name);
            if (a == null) {
                continue;
            }
            String suffix = key + "." + e.getKey();
            try (NDArray delta = a.deltaWeight();
                    LoraFactors f = a.toLora()) {
                float d = maxDiff(g.get("delta." + suffix), delta);
                assertTrue(d <= 1e-5, name + " " + e.getKey() + ": ΔW differs from PEFT's by " + d);
                if (factors) {
                    assertEquals(1f, f.scaling(), "r = lora_alpha");
                    assertTrue(maxDiff(g.get("A." + suffix), f.a()) <= 1e-6, name + " A " + e.getKey());
                    assertTrue(maxDiff(g.get("B." + suffix), f.b()) <= 1e-6, name + " B " + e.getKey());
                } else if (g.containsKey("A." + suffix)) {
                    assertEquals(g.get("A." + suffix).getShape(), f.a().getShape(), "rank of " + name);
                }
            }
            n++;
        }
        assertEquals(
                g.keySet().stream()
                        .filter(k -> k.startsWith("delta." + key + "."))
                        .count(),
                n,
                "modules of " + name);
    }

    static void assertLogits(AdaptedModel model, String name, String key) {
        model.setAdapter(name);
        NDList in = new NDList(golden.get("input_ids"), golden.get("attention_mask"));
        NDArray logits = model.block()
                .forward(new ParameterStore(manager, false), in, false)
                .head();
        Map<String, NDArray> g = ties.containsKey("logits_" + key) ? ties : golden;
        float d = maxDiff(g.get("logits_" + key), logits);
        assertTrue(d <= 1e-4, name + ": logits differ from PEFT's by " + d);
    }

    @Test
    void tiesAndMagnitudePruneMatchPeft() throws Exception {
        AdaptedModel model = sources();
        Map<String, Object[]> cases = Map.of(
                "ties_ab", new Object[] {List.of("a", "b"), W2, options("ties", 0.5)},
                "ties_ab_d1", new Object[] {List.of("a", "b"), W2, options("ties", 1.0)},
                "magnitude_prune_ab", new Object[] {List.of("a", "b"), W2, options("magnitude_prune", 0.5)},
                "ties_abd", new Object[] {List.of("a", "b", "d"), W3, options("ties", 0.5)},
                "ties_abd_freq",
                        new Object[] {
                            List.of("a", "b", "d"),
                            W3,
                            options("ties", 0.5).withMajoritySignMethod(MajoritySign.parse("frequency"))
                        });
        for (Map.Entry<String, Object[]> c : cases.entrySet()) {
            Object[] v = c.getValue();
            @SuppressWarnings("unchecked")
            List<String> adapters = (List<String>) v[0];
            @SuppressWarnings("unchecked")
            List<Double> weights = (List<Double>) v[1];
            WeightedAdapters.add(model, adapters, weights, c.getKey(), (Options) v[2]);
            assertFalse(c.getKey().equals(model.activeAdapter()), "added inactive, as in PEFT");
            LoraConfig config = (LoraConfig) model.adapters().get(c.getKey());
            assertEquals(4, config.r());
            assertEquals(4, config.loraAlpha());
            assertLike(model, c.getKey(), ties, c.getKey(), true);
            assertLogits(model, c.getKey(), c.getKey());
        }
    }

    @Test
    void svdFormsMatchPeftUpToSigns() throws Exception {
        AdaptedModel model = sources();
        List<String> ac = List.of("a", "c");
        WeightedAdapters.add(model, ac, W2, "ties_svd_ac", options("ties_svd", 0.5));
        WeightedAdapters.add(model, ac, W2, "ties_svd_ac_d1", options("ties_svd", 1.0));
        WeightedAdapters.add(model, ac, W2, "magnitude_prune_svd_ac", options("magnitude_prune_svd", 0.5));
        Options freq3 = options("ties_svd", 0.5)
                .withMajoritySignMethod(MajoritySign.FREQUENCY)
                .withSvdRank(3);
        WeightedAdapters.add(model, List.of("a", "b", "c"), W3, "ties_svd_abc_freq", freq3);
        for (String name : List.of("ties_svd_ac", "ties_svd_ac_d1", "magnitude_prune_svd_ac", "ties_svd_abc_freq")) {
            assertEquals(
                    name.endsWith("freq") ? 3 : 4,
                    ((LoraConfig) model.adapters().get(name)).r());
            assertLike(model, name, ties, name, false);
            assertLogits(model, name, name);
        }
    }

    @Test
    void dareAtDensityOneIsItsDeterministicCounterpart() throws Exception {
        AdaptedModel model = sources();
        List<String> ab = List.of("a", "b");
        List<String> ac = List.of("a", "c");
        // PEFT's prune() returns the tensors untouched at density >= 1 (the script asserts the same equalities)
        WeightedAdapters.add(model, ab, W2, "dl", options("dare_linear", 1.0).withSeed(1L));
        assertLike(model, "dl", golden, "linear_ab", false);
        WeightedAdapters.add(model, ab, W2, "mp", options("magnitude_prune", 1.0));
        assertLike(model, "mp", golden, "linear_ab", false);
        WeightedAdapters.add(model, ab, W2, "dt", options("dare_ties", 1.0).withSeed(1L));
        assertLike(model, "dt", ties, "ties_ab_d1", true);
        assertLogits(model, "dt", "ties_ab_d1");
        WeightedAdapters.add(model, ac, W2, "dls", options("dare_linear_svd", 1.0));
        assertLike(model, "dls", golden, "svd_ac", false);
        assertLogits(model, "dls", "svd_ac");
        WeightedAdapters.add(model, ac, W2, "dts", options("dare_ties_svd", 1.0));
        assertLike(model, "dts", ties, "ties_svd_ac_d1", false);
    }

    @Test
    void dareLinearKeepsEachEntryWithProbabilityDensityRescaled() throws Exception {
        AdaptedModel model = sources();
        double density = 0.3;
        WeightedAdapters.add(
                model,
                List.of("a", "b"),
                W2,
                "dare",
                options("dare_linear", density).withSeed(42L));
        WeightedAdapters.add(
                model,
                List.of("a", "b"),
                W2,
                "again",
                options("dare_linear", density).withSeed(42L));
        WeightedAdapters.add(
                model,
                List.of("a", "b"),
                W2,
                "other",
                options("dare_linear", density).withSeed(43L));
        float d = (float) density;
        int[] kept = new int[2];
        int total = 0;
        boolean differs = false;
        for (AdaptedLinear m : model.adaptedModules().values()) {
            if (!m.adapters().containsKey("dare")) {
                continue;
            }
            try (LoraFactors fa = m.adapters().get("a").toLora();
                    LoraFactors fb = m.adapters().get("b").toLora();
                    LoraFactors got = m.adapters().get("dare").toLora();
                    LoraFactors same = m.adapters().get("again").toLora();
                    LoraFactors other = m.adapters().get("other").toLora()) {
                assertEquals(0f, maxDiff(got.a(), same.a()), "the seed reproduces the masks");
                assertEquals(0f, maxDiff(got.b(), same.b()));
                differs |= maxDiff(got.a(), other.a()) > 0;
                double[] ws = {0.7 * fa.scaling(), -0.4 * fb.scaling()};
                for (boolean isA : new boolean[] {true, false}) {
                    float[] x = (isA ? fa.a() : fa.b()).toFloatArray();
                    float[] y = (isA ? fb.a() : fb.b()).toFloatArray();
                    float[] out = (isA ? got.a() : got.b()).toFloatArray();
                    float wx = (float) (isA ? Math.signum(ws[0]) : 1) * (float) Math.sqrt(Math.abs(ws[0]));
                    float wy = (float) (isA ? Math.signum(ws[1]) : 1) * (float) Math.sqrt(Math.abs(ws[1]));
                    for (int i = 0; i < out.length; i++) {
                        // every entry is one of the four mask outcomes: pruned (exactly 0) or kept and ×1/density
                        float px = x[i] / d * wx;
                        float py = y[i] / d * wy;
                        float[] outcomes = {0f, px, py, px + py};
                        int match = -1;
                        for (int o = 0; o < 4; o++) {
                            if (Math.abs(out[i] - outcomes[o]) <= 1e-6f * (1 + Math.abs(outcomes[o]))) {
                                match = o;
                            }
                        }
                        assertTrue(match >= 0, "entry " + i + " = " + out[i] + " is no mask outcome");
                        if (match == 0) {
                            assertEquals(0f, out[i], "pruned everywhere: exactly zero");
                        }
                        kept[0] += (match & 1) != 0 ? 1 : 0;
                        kept[1] += (match & 2) != 0 ? 1 : 0;
                        total++;
                    }
                }
            }
        }
        assertTrue(differs, "another seed, other masks");
        double sigma = Math.sqrt(density * (1 - density) / total);
        for (int k : kept) {
            double fraction = (double) k / total;
            assertTrue(Math.abs(fraction - density) <= 5 * sigma, "kept " + fraction + " of " + total);
        }
        WeightedAdapters.add(model, List.of("a", "b"), W2, "unseeded", options("dare_ties_svd", 0.5));
        assertTrue(model.adapters().containsKey("unseeded"));
    }

    @Test
    void oneAdapterIsLinearWhateverTheType() throws Exception {
        AdaptedModel model = sources();
        // PEFT replaces the type by "linear" before looking at density, so none is needed
        WeightedAdapters.add(model, List.of("a"), List.of(0.5), "single", Options.of(Combination.DARE_TIES));
        assertLike(model, "single", golden, "single_a", false);
    }

    @Test
    void rejectsWhatPeftRejectsAndWhatCannotBeCombined() throws Exception {
        AdaptedModel model = sources();
        List<String> ab = List.of("a", "b");
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, List.of("a", "c"), W2, "x", options("ties", 0.5)));
        assertTrue(e.getMessage().contains("same r value when using combination_type ties"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, ab, W2, "x", Options.of(Combination.MAGNITUDE_PRUNE)));
        assertTrue(e.getMessage().contains("magnitude_prune needs density"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WeightedAdapters.add(model, ab, W2, "x", "ties"));
        assertTrue(e.getMessage().contains("ties needs density"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(model, ab, W2, "x", options("dare_linear", 0.0)));
        assertTrue(e.getMessage().contains("density in (0, 1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> options("ties", 1.5));
        assertTrue(e.getMessage().contains("density"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> options("ties", Double.NaN));
        assertTrue(e.getMessage().contains("density"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MajoritySign.parse("median"));
        assertTrue(e.getMessage().contains("majority_sign_method"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Combination.parse("dare"));
        assertTrue(e.getMessage().contains("dare_ties_svd"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> WeightedAdapters.add(
                        model, ab, W2, "x", options("ties_svd", 0.5).withSvdRank(33)));
        assertTrue(e.getMessage().contains("exceeds min(out, in)"), e.getMessage());
        assertEquals(Set.of("a", "b", "c", "d"), model.adapters().keySet(), "nothing added");
        // density 0 prunes everything: a valid, zero update for the magnitude forms, as in PEFT
        WeightedAdapters.add(model, ab, W2, "zero", options("ties", 0.0));
        WeightedAdapters.add(model, ab, W2, "zero_svd", options("magnitude_prune_svd", 0.0));
        for (AdaptedLinear m : model.adaptedModules().values()) {
            for (String name : List.of("zero", "zero_svd")) {
                if (m.adapters().containsKey(name)) {
                    try (NDArray delta = m.adapters().get(name).deltaWeight()) {
                        assertEquals(0f, delta.abs().max().getFloat());
                    }
                }
            }
        }
    }
}
