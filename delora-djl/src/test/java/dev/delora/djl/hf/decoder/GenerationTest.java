package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.fixtures.Fixtures;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CausalLm#generate} against transformers 4.57 ({@code fixtures/decoders/generation.safetensors}): per-row EOS
 * stopping with padding, the sampling warpers value for value, and the categorical draw statistically.
 */
class GenerationTest {

    private static final String[] WARPER_SETTINGS = {"t0.7", "k5", "p0.9", "p0.05", "t0.7_k5_p0.9"};
    private static NDManager manager;
    private static Map<String, NDArray> golden;
    private static Map<String, NDArray> generation;
    private static CausalLm lm;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        golden = Safetensors.load(manager, Fixtures.path("decoders/golden.safetensors"));
        generation = Safetensors.load(manager, Fixtures.path("decoders/generation.safetensors"));
        lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), manager)
                .block();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    private static NDArray ids() {
        return golden.get("tiny-llama/input_ids");
    }

    private static NDArray mask() {
        return golden.get("tiny-llama/attention_mask");
    }

    private static List<Integer> eos(String name) {
        return java.util.Arrays.stream(generation.get(name + "/eos_token_ids").toLongArray())
                .mapToObj(e -> (int) e)
                .toList();
    }

    @Test
    void eosStopsEachRowAsTransformers() {
        // eos1: row 0 ends at its 4th token and is padded, row 1 runs to 6; eos2: both end early, so fewer steps
        int[][] lengths = {{4, 6}, {4, 2}};
        String[] cases = {"eos1", "eos2"};
        for (int c = 0; c < cases.length; c++) {
            GenerationSettings s = GenerationSettings.builder()
                    .maxNewTokens(6)
                    .eosTokenIds(eos(cases[c]))
                    .padTokenId(0)
                    .build();
            Generated g = lm.generate(ids(), mask(), s);
            NDArray expected = generation.get(cases[c] + "/tokens");
            assertEquals(expected.getShape(), g.tokens().getShape(), cases[c]);
            assertArrayEquals(expected.toLongArray(), g.tokens().toLongArray(), cases[c]);
            assertArrayEquals(lengths[c], g.lengths(), cases[c] + " lengths");
        }
        // without eos ids: all 6 greedy tokens, as generateGreedy
        Generated all = lm.generate(
                ids(), mask(), GenerationSettings.builder().maxNewTokens(6).build());
        assertArrayEquals(
                golden.get("tiny-llama/greedy_tokens").toLongArray(),
                all.tokens().toLongArray());
        assertArrayEquals(new int[] {6, 6}, all.lengths());
    }

    @Test
    void stopStringsEndRowsOnTheTokenThatCompletesThem() {
        // each token's text is "<id>"; the oracle is transformers' greedy continuation, cut by hand
        long[] greedy = golden.get("tiny-llama/greedy_tokens").toLongArray();
        int steps = greedy.length / 2;
        GenerationSettings.TokenText text = ids -> {
            StringBuilder sb = new StringBuilder();
            for (long id : ids) {
                sb.append('<').append(id).append('>');
            }
            return sb.toString();
        };
        // a string spanning tokens 2 and 3 of row 0, and one ending inside token 4 of row 1 (an overhang)
        String spanning = "<" + greedy[1] + "><" + greedy[2] + ">";
        String overhang = "<" + greedy[steps + 3];
        GenerationSettings s = GenerationSettings.builder()
                .maxNewTokens(steps)
                .padTokenId(7)
                .stopStrings(List.of(spanning, overhang), text)
                .build();
        Generated g = lm.generate(ids(), mask(), s);
        int[] expectedLengths = {
            firstHit(greedy, 0, steps, spanning, overhang, text), firstHit(greedy, 1, steps, spanning, overhang, text)
        };
        assertArrayEquals(expectedLengths, g.lengths());
        assertTrue(expectedLengths[0] <= 3 && expectedLengths[1] <= 4, java.util.Arrays.toString(expectedLengths));
        long[] tokens = g.tokens().toLongArray();
        int width = (int) g.tokens().getShape().get(1);
        assertEquals(Math.max(expectedLengths[0], expectedLengths[1]), width);
        for (int r = 0; r < 2; r++) {
            for (int t = 0; t < width; t++) {
                long want = t < expectedLengths[r] ? greedy[r * steps + t] : 7;
                assertEquals(want, tokens[r * width + t], "row " + r + " step " + t);
            }
        }
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationSettings.builder()
                        .stopStrings(List.of("x"), null)
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationSettings.builder()
                        .stopStrings(List.of(""), text)
                        .build());
    }

    /** The 1-based step after which a row's text first contains a stop string, else all steps. */
    private static int firstHit(
            long[] greedy, int row, int steps, String a, String b, GenerationSettings.TokenText text) {
        for (int n = 1; n <= steps; n++) {
            long[] prefix = java.util.Arrays.copyOfRange(greedy, row * steps, row * steps + n);
            String t = text.decode(prefix);
            if (t.contains(a) || t.contains(b)) {
                return n;
            }
        }
        return steps;
    }

    @Test
    void warpersMatchTransformers() {
        float[][] settings = {{0.7f, 0, 1}, {1, 5, 1}, {1, 0, 0.9f}, {1, 0, 0.05f}, {0.7f, 5, 0.9f}};
        float worst = 0;
        for (String input : new String[] {"random", "ties"}) {
            NDArray scores = generation.get("warp/" + input + "/scores");
            for (int i = 0; i < WARPER_SETTINGS.length; i++) {
                String what = input + "/" + WARPER_SETTINGS[i];
                float[] expected = generation.get("warp/" + what).toFloatArray();
                float[] actual = Sampling.warp(scores, settings[i][0], (int) settings[i][1], settings[i][2])
                        .toFloatArray();
                assertEquals(expected.length, actual.length, what);
                for (int j = 0; j < expected.length; j++) {
                    assertEquals(Float.isInfinite(expected[j]), Float.isInfinite(actual[j]), what + " at " + j);
                    if (Float.isFinite(expected[j])) {
                        worst = Math.max(worst, Math.abs(expected[j] - actual[j]));
                    } else {
                        assertEquals(Float.NEGATIVE_INFINITY, actual[j], what + " at " + j);
                    }
                }
            }
        }
        System.out.printf("warpers: max |diff| %.3g%n", worst);
        assertTrue(worst <= 1e-6f, "warpers: max |diff| " + worst);
    }

    @Test
    void topKOneSamplesTheGreedyTokensAndSeedsReproduce() {
        GenerationSettings.Builder b = GenerationSettings.builder()
                .maxNewTokens(6)
                .doSample(true)
                .topK(1)
                .seed(3L);
        assertArrayEquals(
                golden.get("tiny-llama/greedy_tokens").toLongArray(),
                lm.generate(ids(), mask(), b.build()).tokens().toLongArray());
        GenerationSettings hot = b.topK(0).temperature(2f).topP(0.95f).seed(42L).build();
        long[] first = lm.generate(ids(), mask(), hot).tokens().toLongArray();
        assertArrayEquals(first, lm.generate(ids(), mask(), hot).tokens().toLongArray());
    }

    @Test
    void drawsFollowTheDistribution() {
        int n = 20000;
        double[] p = {0.2, 0.3, 0.5};
        float[] logits = new float[3 * n];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.log(p[i % 3]);
        }
        try (NDManager m = manager.newSubManager()) {
            long[] drawn = Sampling.draw(m.create(logits, new Shape(n, 3)), new Random(7));
            int[] counts = new int[3];
            for (long t : drawn) {
                counts[(int) t]++;
            }
            for (int k = 0; k < 3; k++) {
                // 5 binomial standard deviations: a false failure has probability below 1e-6
                double tolerance = 5 * Math.sqrt(p[k] * (1 - p[k]) / n);
                double f = counts[k] / (double) n;
                assertTrue(Math.abs(f - p[k]) <= tolerance, "token " + k + ": " + f + " vs " + p[k]);
            }
        }
        // a filtered (zero-probability) token is never drawn, even at u close to 1
        assertEquals(1, Sampling.categorical(new float[] {0.5f, 0.5f, 0f}, 0, 3, 0.9999999));
        assertEquals(2, Sampling.categorical(new float[] {0f, 0f, 1f}, 0, 3, 0.0));
    }

    @Test
    void settingsNameTheInvalidField() {
        Map<String, Runnable> bad = Map.of(
                "temperature", () -> GenerationSettings.builder().temperature(0).build(),
                "top_p", () -> GenerationSettings.builder().topP(1.5f).build(),
                "top_k", () -> GenerationSettings.builder().topK(-1).build(),
                "max_new_tokens",
                        () -> GenerationSettings.builder().maxNewTokens(0).build(),
                "pad_token_id",
                        () -> GenerationSettings.builder().padTokenId(-1).build());
        bad.forEach((field, r) -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run, field);
            assertTrue(e.getMessage().startsWith(field + " "), e.getMessage());
        });
        GenerationSettings fromConfig = GenerationSettings.builder()
                .generationConfig(new GenerationConfig(1, List.of(2, 5), null, null))
                .build();
        assertEquals(2, fromConfig.effectivePadTokenId(), "pad defaults to the first eos id, as in transformers");
        assertTrue(fromConfig.isEos(5));
    }

    @Test
    void loraGivesTheSameTokensUnmergedAndMerged() throws Exception {
        try (NDManager m = manager.newSubManager()) {
            CausalLm base = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m)
                    .block();
            AdaptedModel peft = AdaptedModel.inject(
                    base,
                    LoraConfig.builder()
                            .r(4)
                            .loraAlpha(8)
                            .initLoraWeights(LoraInit.RANDOM)
                            .targetModules("q_proj", "v_proj")
                            .build());
            GenerationSettings s = GenerationSettings.builder()
                    .maxNewTokens(6)
                    .eosTokenIds(eos("eos1"))
                    .padTokenId(0)
                    .build();
            long[] unmerged = base.generate(ids(), mask(), s).tokens().toLongArray();
            peft.merge();
            long[] merged = base.generate(ids(), mask(), s).tokens().toLongArray();
            assertArrayEquals(unmerged, merged);
            long[] plain = golden.get("tiny-llama/greedy_tokens").toLongArray();
            assertTrue(!java.util.Arrays.equals(plain, unmerged), "the random LoRA changes the tokens");
        }
    }
}
