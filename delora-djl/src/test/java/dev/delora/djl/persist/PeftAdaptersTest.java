package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.delora.DeloraAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.loraxs.LoraXsAdapter;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraAdapter;
import dev.delora.core.sora.SoraConfig;
import dev.delora.core.sora.SoraSchedule;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our own methods in PEFT's layout, exact LoRA exports, several adapters, and every way a folder can be wrong
 * (each must leave the model unchanged).
 */
class PeftAdaptersTest {

    private static NDManager manager;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        PeftGoldenTest.setUp();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
        PeftGoldenTest.tearDown();
    }

    @BeforeEach
    void seed() {
        Engine.getInstance().setRandomSeed(11);
    }

    private static HfSequenceClassifier base() throws Exception {
        return PeftGoldenTest.base().block();
    }

    /** Gives every trainable adapter array random values, so nothing is at its (often zero) init. */
    private static void randomise(AdaptedModel peft, String name) {
        for (AdaptedLinear m : peft.adaptedModules().values()) {
            LinearAdapter a = m.adapters().get(name);
            for (Map.Entry<String, Parameter> e : a.parameters().entrySet()) {
                NDArray v = e.getValue().getArray();
                float scale = e.getKey().contains("latent") ? 0.5f : 0.3f;
                v.set(
                        new NDIndex(":"),
                        manager.randomNormal(0f, scale, v.getShape(), v.getDataType())
                                .add(e.getKey().contains("lambda") ? 10f : 0f));
            }
        }
    }

    private static float diff(NDArray a, NDArray b) {
        return PeftGoldenTest.maxDiff(a, b);
    }

    static List<AdapterConfig> ownMethods() {
        return List.of(
                DeloraConfig.builder()
                        .r(3)
                        .init(DeloraInit.PAPER)
                        .targetModules("query", "value", "dense")
                        .modulesToSave("classifier")
                        .build(),
                DeloraConfig.builder()
                        .r(2)
                        .init(DeloraInit.RANDOM)
                        .targetModules("query")
                        .rankPattern("value", 3)
                        .build(),
                LoraXsConfig.builder()
                        .r(4)
                        .loraAlpha(16)
                        .targetModules("query", "value", "output.dense")
                        .build(),
                SoraConfig.builder()
                        .r(4)
                        .loraAlpha(8)
                        .targetModules("query", "key", "value")
                        .lambdaSchedule(SoraSchedule.LINEAR, 1e-3f, 4)
                        .rankPattern("key", 2)
                        .build(),
                LoraConfig.builder()
                        .r(3)
                        .loraAlpha(5)
                        .useRslora(true)
                        .targetModulesRegex(".*layer\\.1\\..*(query|key)")
                        .alphaPattern("key", 7)
                        .build());
    }

    @Test
    void everyMethodRoundTripsAndExportsAsAnExactPlainLora() throws Exception {
        for (AdapterConfig config : ownMethods()) {
            String what = config.peftType() + " " + config;
            HfSequenceClassifier block = base();
            AdaptedModel peft = AdaptedModel.inject(block, config);
            randomise(peft, "default");
            if (config instanceof SoraConfig) {
                // pruned ranks: one gate of every module set to exactly zero, one module fully pruned
                peft.adaptedModules()
                        .forEach((path, m) -> ((SoraAdapter) m.adapters().get("default"))
                                .gate()
                                .getArray()
                                .set(new NDIndex(path.endsWith("layer.0.attention.self.key") ? "0, :" : "0, 1"), 0f));
            }
            NDArray before = PeftGoldenTest.logits(block);
            assertTrue(diff(before, PeftGoldenTest.golden.get("logits_base")) > 1e-3, what + ": adapter inactive?");

            Path own = PeftAdapters.save(peft, tmp.resolve("own-" + config.peftType() + config.hashCode()));
            Path asLora = PeftAdapters.saveAsLora(peft, "default", tmp.resolve("lora-" + config.hashCode()));
            assertTrue(diff(before, PeftGoldenTest.logits(block)) == 0f, what + ": saving changed the model");

            HfSequenceClassifier again = base();
            AdaptedModel reloaded = PeftAdapters.load(again, own);
            assertEquals(config, reloaded.adapters().get("default"), what + ": config round trip");
            assertTrue(diff(before, PeftGoldenTest.logits(again)) <= 1e-6, what + ": reloaded logits");

            HfSequenceClassifier third = base();
            AdaptedModel lora = PeftAdapters.load(third, asLora);
            LoraConfig lc = assertInstanceOf(LoraConfig.class, lora.adapters().get("default"));
            float d = diff(before, PeftGoldenTest.logits(third));
            assertTrue(d <= 1e-5, what + ": logits of the LoRA export differ by " + d);
            for (Map.Entry<String, AdaptedLinear> e : peft.adaptedModules().entrySet()) {
                LinearAdapter src = e.getValue().adapters().get("default");
                int expectedRank = src.rank();
                if (src instanceof SoraAdapter s) {
                    expectedRank = Math.max(1, s.liveRank());
                } else if (src instanceof DeloraAdapter x && x.hasFrozenCopies()) {
                    expectedRank = 2 * x.rank();
                }
                assertEquals(expectedRank, lc.rankFor(e.getKey()), what + ": rank of " + e.getKey());
            }
        }
    }

    @Test
    void loraXsExportIsUrTimesRAndSigmaVt() throws Exception {
        HfSequenceClassifier block = base();
        AdaptedModel peft = AdaptedModel.inject(
                block, LoraXsConfig.builder().r(3).targetModules("query").build());
        randomise(peft, "default");
        Path out = PeftAdapters.saveAsLora(peft, "default", tmp);
        Map<String, NDArray> saved = Safetensors.load(manager, out.resolve(PeftAdapters.WEIGHTS_FILE));
        String path = "roberta.encoder.layer.1.attention.self.query";
        LoraXsAdapter a =
                (LoraXsAdapter) peft.adaptedModules().get(path).adapters().get("default");
        NDArray u = a.buffers().get(LoraXsAdapter.B);
        NDArray r = a.parameters().get(LoraXsAdapter.R).getArray();
        assertTrue(diff(u.matMul(r), saved.get(PeftAdapters.PREFIX + path + ".lora_B.weight")) < 1e-6);
        assertTrue(
                diff(a.buffers().get(LoraXsAdapter.A), saved.get(PeftAdapters.PREFIX + path + ".lora_A.weight")) == 0f);
        JsonObject cfg = JsonParser.parseString(Files.readString(out.resolve(PeftAdapters.CONFIG_FILE)))
                .getAsJsonObject();
        assertEquals("LORA", cfg.get("peft_type").getAsString());
        assertEquals(
                16f / 3 * 3,
                cfg.getAsJsonObject("alpha_pattern").get(path).getAsFloat(),
                1e-5,
                "same scaling α/r as the LoRA-XS adapter");
        assertEquals("SEQ_CLS", cfg.get("task_type").getAsString());
    }

    @Test
    void severalAdaptersLoadSwitchDisableSaveAndDelete() throws Exception {
        HfSequenceClassifier block = base();
        AdaptedModel peft = PeftAdapters.load(block, Fixtures.dir("peft/lora"));
        PeftAdapters.load(peft, Fixtures.dir("peft/delora"), "other");
        assertEquals("default", peft.activeAdapter());
        peft.setAdapter("other");
        PeftGoldenTest.assertLogits("logits_delora", block, 1e-4);
        // the head is shared and now holds DeLoRA's trained head, so the base encoder gives PEFT's head-only logits
        try (AutoCloseable off = peft.disableAdapters()) {
            PeftGoldenTest.assertLogits("logits_delora_head_only", block, 1e-4);
        }
        Path dir = tmp.resolve("multi");
        Path other = PeftAdapters.save(peft, "other", dir);
        assertEquals(dir.resolve("other"), other, "non-default adapters go to dir/<name>/ as in PEFT");
        peft.merge("other");
        PeftGoldenTest.assertLogits("logits_delora_merged", block, 1e-4);
        peft.unmerge();
        peft.deleteAdapter("other");
        assertEquals(List.of("default"), List.copyOf(peft.adapters().keySet()));
        // loading by the parent folder and the adapter's name finds dir/other
        HfSequenceClassifier fresh = base();
        PeftAdapters.load(fresh, dir, "other");
        PeftGoldenTest.assertLogits("logits_delora", fresh, 1e-4);
    }

    // ------------------------------------------------------------------ bad input

    private Path copyOf(String set) throws IOException {
        Path src = Fixtures.dir("peft/" + set);
        Path dst = Files.createDirectories(tmp.resolve("bad-" + set + "-" + System.nanoTime()));
        for (String f : List.of(PeftAdapters.CONFIG_FILE, PeftAdapters.WEIGHTS_FILE)) {
            Files.copy(src.resolve(f), dst.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        return dst;
    }

    private Path withConfig(String set, Consumer<JsonObject> edit) throws IOException {
        Path dir = copyOf(set);
        Path f = dir.resolve(PeftAdapters.CONFIG_FILE);
        JsonObject o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        edit.accept(o);
        Files.writeString(f, o.toString());
        return dir;
    }

    /** Loads a bad folder onto a plain base and onto an adapted one; both must fail and stay as they were. */
    private String assertRejected(Path dir) throws Exception {
        HfSequenceClassifier block = base();
        NDArray before = PeftGoldenTest.logits(block);
        Exception e = assertThrows(Exception.class, () -> PeftAdapters.load(block, dir, "default"));
        assertFalse(
                BlockTree.modules(block).values().stream().anyMatch(b -> b instanceof AdaptedLinear),
                "a failed load must not wrap modules");
        assertEquals(0f, diff(before, PeftGoldenTest.logits(block)), "a failed load must not change the model");

        AdaptedModel peft = PeftAdapters.load(block, Fixtures.dir("peft/lora"));
        NDArray adapted = PeftGoldenTest.logits(block);
        assertThrows(Exception.class, () -> PeftAdapters.load(peft, dir, "second"));
        assertEquals(List.of("default"), List.copyOf(peft.adapters().keySet()));
        assertEquals(0f, diff(adapted, PeftGoldenTest.logits(block)), "a failed load must not change the model");
        return e.getMessage();
    }

    @Test
    void truncatedOrCorruptWeightsFailClearlyAndChangeNothing() throws Exception {
        Path truncated = copyOf("lora");
        Path w = truncated.resolve(PeftAdapters.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(w);
        Files.write(w, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        String msg = assertRejected(truncated);
        assertTrue(msg.contains(PeftAdapters.WEIGHTS_FILE), msg);

        Path garbage = copyOf("lora");
        Files.write(garbage.resolve(PeftAdapters.WEIGHTS_FILE), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        msg = assertRejected(garbage);
        assertTrue(msg.contains(PeftAdapters.WEIGHTS_FILE), msg);

        Path badJson = copyOf("lora");
        Files.writeString(badJson.resolve(PeftAdapters.CONFIG_FILE), "{\"peft_type\": \"LORA\", ");
        msg = assertRejected(badJson);
        assertTrue(msg.contains(PeftAdapters.CONFIG_FILE), msg);

        Path noWeights = copyOf("lora");
        Files.delete(noWeights.resolve(PeftAdapters.WEIGHTS_FILE));
        msg = assertRejected(noWeights);
        assertTrue(msg.contains(PeftAdapters.WEIGHTS_FILE), msg);
    }

    @Test
    void anAdapterForAnotherModelOrConfigFailsNamingKeyAndShapes() throws Exception {
        // rank 8 in the config, rank 4 in the file
        String msg = assertRejected(withConfig("lora", o -> o.addProperty("r", 8)));
        assertTrue(msg.contains("lora_A.weight") && msg.contains("(8, 32)") && msg.contains("(4, 32)"), msg);
        // one more target in the config than in the file
        msg = assertRejected(
                withConfig("lora", o -> o.getAsJsonArray("target_modules").add("key")));
        assertTrue(msg.contains("missing") && msg.contains("attention.self.key.lora_A.weight"), msg);
        // a file for BERT on RoBERTa: every key names a module this model does not have
        HfSequenceClassifier bert = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert"), manager, null)
                .block();
        NDArray before = PeftGoldenTest.logits(bert);
        Exception e =
                assertThrows(IllegalArgumentException.class, () -> PeftAdapters.load(bert, Fixtures.dir("peft/lora")));
        assertTrue(
                e.getMessage().contains("unexpected") && e.getMessage().contains("base_model.model.roberta"),
                e.getMessage());
        assertFalse(BlockTree.modules(bert).values().stream().anyMatch(b -> b instanceof AdaptedLinear));
        assertEquals(0f, diff(before, PeftGoldenTest.logits(bert)));
        // a target that matches nothing in this model
        msg = assertRejected(withConfig("lora", o -> {
            o.remove("target_modules");
            o.addProperty("target_modules", ".*q_proj");
        }));
        assertTrue(msg.contains("No module matches"), msg);
    }

    @Test
    void unsupportedPeftOptionsAreRejectedByName() throws Exception {
        Map<String, Consumer<JsonObject>> edits = Map.of(
                "use_qalora", o -> o.addProperty("use_qalora", true),
                "bias", o -> o.addProperty("bias", "all"),
                "fan_in_fan_out", o -> o.addProperty("fan_in_fan_out", true),
                "init_lora_weights", o -> o.addProperty("init_lora_weights", "pissa"),
                "peft_type", o -> o.addProperty("peft_type", "ADALORA"),
                "lora_alpha", o -> o.addProperty("lora_alpha", "eight"));
        for (Map.Entry<String, Consumer<JsonObject>> e : edits.entrySet()) {
            String msg = assertRejected(withConfig("lora", e.getValue()));
            assertTrue(msg.contains(e.getKey()) && msg.contains(PeftAdapters.CONFIG_FILE), msg);
        }
        // a LoRA file declared DoRA lacks the magnitudes: named, as missing keys
        String dora = assertRejected(withConfig("lora", o -> o.addProperty("use_dora", true)));
        assertTrue(dora.contains("missing keys") && dora.contains("lora_magnitude_vector"), dora);
        String msg = assertRejected(withConfig("delora", o -> o.addProperty("init_weights", "paper")));
        assertTrue(msg.contains("DELORA_PAPER"), msg);
    }

    @Test
    void unknownFieldsAreIgnoredAndPeftDefaultsApply() {
        JsonObject o = JsonParser.parseString("{\"peft_type\":\"LORA\",\"target_modules\":\"(query|value)\","
                        + "\"some_future_field\":{\"x\":1},\"layers_to_transform\":1,\"layers_pattern\":\"layer\"}")
                .getAsJsonObject();
        LoraConfig c = (LoraConfig) PeftAdapters.configFromJson(o, "x.json");
        assertEquals(8, c.r());
        assertEquals(8f, c.loraAlpha());
        assertEquals(List.of(1), c.targets().layersToTransform());
        assertEquals(List.of("layer"), c.targets().layersPattern());
        assertEquals("(query|value)", c.targets().targetModules().regex());
    }

    @Test
    void savingLeavesExactlyTheTwoFilesAndNoTempFiles() throws Exception {
        HfSequenceClassifier block = base();
        AdaptedModel peft = AdaptedModel.inject(
                block, LoraConfig.builder().r(2).targetModules("query").build());
        Path dir = PeftAdapters.save(peft, tmp.resolve("atomic"));
        try (var files = Files.list(dir)) {
            assertEquals(
                    List.of(PeftAdapters.CONFIG_FILE, PeftAdapters.WEIGHTS_FILE),
                    files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temp files left");
        }
    }
}
