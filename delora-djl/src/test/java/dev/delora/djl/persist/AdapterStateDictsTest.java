package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-memory state dicts ({@link AdapterStateDicts}, PEFT's {@code get/set_peft_model_state_dict}) against PEFT's own
 * {@code peft/lora} file and golden logits, and saving/loading every adapter at once ({@link PeftAdapters#saveAll},
 * {@link PeftAdapters#loadAll}) in PEFT's {@code save_pretrained} layout.
 */
class AdapterStateDictsTest {

    static NDManager manager;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        PeftGoldenTest.setUp();
        manager = PeftGoldenTest.manager;
    }

    @AfterAll
    static void tearDown() {
        PeftGoldenTest.tearDown();
    }

    static Block base() throws Exception {
        return PeftGoldenTest.base().block();
    }

    static LoraConfig peftLoraConfig() {
        return LoraConfig.builder()
                .r(4)
                .loraAlpha(8)
                .targetModules("query", "value")
                .build();
    }

    @Test
    void getEqualsPeftsSavedFile() throws Exception {
        AdaptedModel model = PeftAdapters.load(base(), Fixtures.dir("peft/lora"));
        Map<String, NDArray> file = Safetensors.load(manager, Fixtures.path("peft/lora/adapter_model.safetensors"));
        try (NDManager mine = NDManager.newBaseManager()) {
            Map<String, NDArray> got = AdapterStateDicts.get(model, "default", mine);
            assertEquals(file.keySet(), got.keySet());
            file.forEach((k, v) -> assertEquals(0f, PeftGoldenTest.maxDiff(v, got.get(k)), k));
            assertTrue(got.values().stream().allMatch(a -> a.getManager() == mine), "copies in the caller's manager");
            // copies: changing them leaves the model alone
            got.values().forEach(a -> a.addi(1f));
            PeftGoldenTest.assertLogits("logits_lora", model.block(), 1e-4);
            // and they are what save writes
            Path dir = PeftAdapters.save(model, tmp);
            Map<String, NDArray> saved = Safetensors.load(manager, dir.resolve(PeftAdapters.WEIGHTS_FILE));
            assertEquals(
                    saved.keySet(),
                    AdapterStateDicts.get(model, "default", mine).keySet());
        }
    }

    @Test
    void setFromPeftsFileGivesPeftsLogits() throws Exception {
        AdaptedModel model = AdaptedModel.inject(base(), peftLoraConfig());
        Map<String, NDArray> file = Safetensors.load(manager, Fixtures.path("peft/lora/adapter_model.safetensors"));
        AdapterStateDicts.set(model, "default", file);
        PeftGoldenTest.assertLogits("logits_lora", model.block(), 1e-4);
    }

    @Test
    void aBadStateDictChangesNothing() throws Exception {
        AdaptedModel model = AdaptedModel.inject(base(), peftLoraConfig());
        Map<String, NDArray> good = Safetensors.load(manager, Fixtures.path("peft/lora/adapter_model.safetensors"));
        NDArray before = PeftGoldenTest.logits(model.block());
        String aKey = "base_model.model.roberta.encoder.layer.0.attention.self.query.lora_A.weight";
        String last = "base_model.model.classifier.out_proj.bias";
        assertBad(model, good, m -> m.remove(aKey), "missing keys [" + aKey + "]");
        assertBad(model, good, m -> m.put("base_model.model.x.lora_A.weight", m.get(aKey)), "unexpected keys");
        assertBad(model, good, m -> m.put(last, manager.zeros(new Shape(4))), last + "' has shape (4)");
        assertBad(model, good, m -> m.put(last, manager.zeros(new Shape(3), DataType.INT32)), "dtype");
        // the invalid value is the last one: nothing before it may have been written
        assertBad(model, good, m -> m.put(last, manager.create(new float[] {0, Float.NaN, 0})), "NaN");
        assertEquals(0f, PeftGoldenTest.maxDiff(before, PeftGoldenTest.logits(model.block())));
        assertThrows(IllegalArgumentException.class, () -> AdapterStateDicts.set(model, "nope", good));
    }

    private static void assertBad(
            AdaptedModel model, Map<String, NDArray> good, Consumer<Map<String, NDArray>> edit, String expected) {
        Map<String, NDArray> bad = new LinkedHashMap<>(good);
        edit.accept(bad);
        var e = assertThrows(IllegalArgumentException.class, () -> AdapterStateDicts.set(model, "default", bad));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** Three adapters of two methods, every factor moved off its initial value. */
    static AdaptedModel threeAdapters() throws Exception {
        AdaptedModel model = AdaptedModel.inject(base(), peftLoraConfig());
        model.addAdapter(
                "other",
                DeloraConfig.builder()
                        .r(2)
                        .targetModules("query", "value", "intermediate.dense")
                        .build());
        model.addAdapter(
                "third",
                LoraConfig.builder().r(2).loraAlpha(3).targetModules("key").build());
        model.adaptedModules()
                .values()
                .forEach(m -> m.adapters()
                        .values()
                        .forEach(a -> a.parameters()
                                .values()
                                .forEach(p -> p.getArray()
                                        .addi(manager.randomNormal(
                                                0f, 0.3f, p.getArray().getShape(), DataType.FLOAT32)))));
        return model;
    }

    @Test
    void saveAllUsesPeftsLayoutAndLoadsBack() throws Exception {
        AdaptedModel model = threeAdapters();
        Map<String, NDArray> logits = new LinkedHashMap<>();
        for (String name : List.of("default", "other", "third")) {
            model.setAdapter(name);
            logits.put(name, PeftGoldenTest.logits(model.block()));
        }
        Map<String, Path> written = PeftAdapters.saveAll(model, tmp);
        assertEquals(Map.of("default", tmp, "other", tmp.resolve("other"), "third", tmp.resolve("third")), written);
        for (Path d : written.values()) {
            assertTrue(Files.isRegularFile(d.resolve(PeftAdapters.CONFIG_FILE)));
            assertTrue(Files.isRegularFile(d.resolve(PeftAdapters.WEIGHTS_FILE)));
        }
        AdaptedModel back = PeftAdapters.loadAll(base(), tmp, false);
        assertEquals(Set.of("default", "other", "third"), back.adapters().keySet());
        assertEquals("default", back.activeAdapter());
        assertTrue(back.isInferenceMode());
        for (String name : List.of("default", "other", "third")) {
            back.setAdapter(name);
            float d = PeftGoldenTest.maxDiff(logits.get(name), PeftGoldenTest.logits(back.block()));
            assertTrue(d <= 1e-5, name + ": " + d);
        }
        // the same folder also loads one adapter at a time, as PEFT's from_pretrained / load_adapter(subfolder)
        AdaptedModel one = PeftAdapters.load(base(), tmp);
        PeftAdapters.load(one, tmp, "other");
        assertEquals(Set.of("default", "other"), one.adapters().keySet());
    }

    @Test
    void withoutADefaultAdapterTheRootHoldsNoAdapter() throws Exception {
        AdaptedModel model = threeAdapters();
        model.setAdapter("other");
        model.deleteAdapter("default");
        PeftAdapters.saveAll(model, tmp);
        assertFalse(Files.exists(tmp.resolve(PeftAdapters.CONFIG_FILE)), "PEFT writes nothing at the root then");
        AdaptedModel back = PeftAdapters.loadAll(base(), tmp, true);
        assertEquals(List.of("other", "third"), List.copyOf(back.adapters().keySet()));
        assertEquals("other", back.activeAdapter());
        assertFalse(back.isInferenceMode());
    }

    @Test
    void loadAllIsAllOrNothing() throws Exception {
        PeftAdapters.saveAll(threeAdapters(), tmp);
        Files.writeString(tmp.resolve("third").resolve(PeftAdapters.CONFIG_FILE), "{\"peft_type\": \"LORA\"}");
        Block block = base();
        NDArray before = PeftGoldenTest.logits(block);
        var e = assertThrows(IllegalArgumentException.class, () -> PeftAdapters.loadAll(block, tmp, false));
        assertTrue(e.getMessage().contains("third"), e.getMessage());
        assertEquals(0f, PeftGoldenTest.maxDiff(before, PeftGoldenTest.logits(block)));
        AdaptedModel fresh = AdaptedModel.inject(block, peftLoraConfig()); // no adapter was left on the block
        assertEquals(Set.of("default"), fresh.adapters().keySet());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(IllegalArgumentException.class, () -> PeftAdapters.loadAll(base(), empty, false));
        assertTrue(e.getMessage().contains("holds no adapter"), e.getMessage());
    }

    @Test
    void configRecordsRevisionAndTheWriterIsInTheWeightsMetadata() throws Exception {
        AdaptedModel model = AdaptedModel.inject(base(), peftLoraConfig());
        Path dir = PeftAdapters.save(model, "default", tmp, new PeftAdapters.Metadata("SEQ_CLS", "roberta-base"));
        JsonObject json = JsonParser.parseString(Files.readString(dir.resolve(PeftAdapters.CONFIG_FILE)))
                .getAsJsonObject();
        assertTrue(json.has("revision") && json.get("revision").isJsonNull(), "PEFT writes revision: null");
        assertFalse(json.has("peft_version"), "we are not PEFT");
        dir = PeftAdapters.save(
                model, "default", tmp, new PeftAdapters.Metadata("SEQ_CLS", "roberta-base").withRevision("v1.0"));
        json = JsonParser.parseString(Files.readString(dir.resolve(PeftAdapters.CONFIG_FILE)))
                .getAsJsonObject();
        assertEquals("v1.0", json.get("revision").getAsString());
        try (Safetensors.Reader r = Safetensors.open(dir.resolve(PeftAdapters.WEIGHTS_FILE))) {
            assertTrue(r.metadata().get(AdapterFolderFiles.WRITER).startsWith("delora4j"));
        }
        PeftAdapters.load(base(), dir); // and it loads back
    }
}
