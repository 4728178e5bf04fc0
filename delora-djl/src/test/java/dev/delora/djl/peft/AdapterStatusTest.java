package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.core.LinearAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.peft.AdapterStatus.LayerStatus;
import dev.delora.djl.peft.AdapterStatus.ModelStatus;
import dev.delora.djl.peft.AdapterStatus.Uniform;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link AdapterStatus} against PEFT 0.21.2's {@code get_layer_status()} and {@code get_model_status()}
 * ({@code parity/adapter_status.py}, {@code fixtures/status/<scenario>.json}): each scenario is replayed on the same
 * tiny RoBERTa and compared field by field. Only what {@link AdapterStatus} documents as different is mapped: names
 * lose PEFT's {@code model.} prefix, module and adapter-model types are ours, {@code cpu} is the model's device type,
 * and while disabled the trainability is what it was before (PEFT freezes every adapter then).
 */
class AdapterStatusTest {

    private static final String Q0 = "roberta.encoder.layer.0.attention.self.query";
    private static final String Q1 = "roberta.encoder.layer.1.attention.self.query";
    private static final String V1 = "roberta.encoder.layer.1.attention.self.value";

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private Block base() throws Exception {
        return HfModels.sequenceClassifier(Fixtures.dir("peft/base"), manager, null)
                .block();
    }

    private static LoraConfig lora(int r, int alpha, String... targets) {
        return LoraConfig.builder().r(r).loraAlpha(alpha).targetModules(targets).build();
    }

    /** The script's build(): default (active), other, extra (a subset plus layer.1 key). */
    private AdaptedModel build() throws Exception {
        AdaptedModel peft = AdaptedModel.inject(base(), lora(4, 8, "query", "value"));
        peft.addAdapter("other", lora(2, 3, "query", "value"));
        peft.addAdapter("extra", lora(2, 3, "layer.0.attention.self.query", "layer.1.attention.self.key"));
        return peft;
    }

    private static JsonObject golden(String scenario) throws Exception {
        return JsonParser.parseString(Files.readString(Fixtures.path("status/" + scenario + ".json")))
                .getAsJsonObject();
    }

    @Test
    void addedAdaptersMatchPeft() throws Exception {
        AdaptedModel peft = build();
        assertMatches(golden("added"), peft);
        assertEquals(
                List.of("default"), AdapterStatus.layers(peft).get(3).activeAdapters(), "layer.1 key has only extra");
    }

    @Test
    void switchingTheActiveAdaptersMatchesPeft() throws Exception {
        AdaptedModel peft = build();
        peft.setAdapter("other");
        assertMatches(golden("other_active"), peft);
        peft.setAdapters(List.of("default", "extra"));
        assertMatches(golden("two_active"), peft);
    }

    @Test
    void mergingMatchesPeftIncludingAnInactiveAdapter() throws Exception {
        AdaptedModel peft = build();
        peft.merge("default");
        assertMatches(golden("merged_default"), peft);
        peft.merge("extra");
        assertMatches(golden("merged_two"), peft);
        assertEquals(
                List.of("default", "extra"),
                AdapterStatus.model(peft).mergedAdapters().value());
    }

    @Test
    void disabledAndInferenceModeMatchPeft() throws Exception {
        AdaptedModel peft = build();
        try (DisabledAdapters off = peft.disableAdapters()) {
            // documented: disabling leaves trainability as it was (PEFT's "added"), PEFT freezes all adapters
            assertMatches(golden("disabled"), golden("added"), peft, Map.of());
        }
        assertMatches(golden("added"), peft);
        peft.setAdapter("other");
        peft.setInferenceMode(true);
        assertMatches(golden("inference"), peft);
    }

    @Test
    void inconsistentModulesAreIrregularAsInPeft() throws Exception {
        AdaptedModel peft = build();
        Map<String, AdaptedLinear> modules = peft.adaptedModules();
        // the script's per-module changes, with PEFT's side effects on requires_grad done by hand
        modules.get(Q0).merge("other");
        AdaptedLinear v1 = modules.get(V1);
        v1.setActive(List.of("other")); // PEFT's layer.set_adapter also sets requires_grad
        v1.adapters().forEach((name, a) -> freeze(a, !"other".equals(name)));
        modules.get(Q0)
                .adapters()
                .get("default")
                .parameters()
                .get("lora_A.weight")
                .freeze(true);
        AdaptedLinear q1 = modules.get(Q1);
        q1.setDisabled(true); // PEFT's layer.enable_adapters(False) also freezes the layer's adapters
        q1.adapters().values().forEach(a -> freeze(a, true));

        assertMatches(golden("irregular"), peft);
        ModelStatus status = AdapterStatus.model(peft);
        assertTrue(status.enabled().isIrregular());
        IllegalStateException irregular = assertThrows(
                IllegalStateException.class, () -> status.activeAdapters().value());
        assertTrue(irregular.getMessage().contains("irregular"), irregular.getMessage());
        assertEquals("irregular", status.mergedAdapters().toString());
    }

    @Test
    void otherMethodsMatchPeftExceptTheirTypeNames() throws Exception {
        AdaptedModel delora = AdaptedModel.inject(
                base(),
                DeloraConfig.builder()
                        .r(4)
                        .deloraLambda(15)
                        .targetModules("query", "value", "intermediate.dense")
                        .build());
        assertMatches(golden("delora"), golden("delora"), delora, Map.of("delora.DeloraLinear", "delora.Linear"));
        assertEquals("delora", AdapterStatus.model(delora).adapterModelType());

        AdaptedModel dora = AdaptedModel.inject(base(), new DoraConfig(lora(4, 8, "query", "value")));
        assertMatches(golden("dora"), golden("dora"), dora, Map.of("lora.Linear", "dora.Linear"));
        assertEquals("dora", AdapterStatus.model(dora).adapterModelType());
    }

    @Test
    void noAdapterLeftThrowsAsPeftAndReadsAreConsistentUnderChanges() throws Exception {
        AdaptedModel peft = build();
        assertThrows(
                UnsupportedOperationException.class,
                () -> AdapterStatus.layers(peft).clear());
        assertEquals("lora", AdapterStatus.model(peft).adapterModelType());
        assertEquals(
                peft.block().getClass().getSimpleName(),
                AdapterStatus.model(peft).baseModelType());

        // a reader never sees a half-switched model: every snapshot is one of the two states
        ExecutorService pool = Executors.newSingleThreadExecutor();
        CountDownLatch started = new CountDownLatch(1);
        try {
            Future<?> switching = pool.submit(() -> {
                started.countDown();
                for (int i = 0; i < 200; i++) {
                    peft.setAdapter(i % 2 == 0 ? "other" : "default");
                }
            });
            started.await();
            while (!switching.isDone()) {
                assertFalse(AdapterStatus.model(peft).activeAdapters().isIrregular());
            }
            switching.get();
        } finally {
            pool.shutdownNow();
        }

        for (String name : List.of("default", "other", "extra")) {
            peft.deleteAdapter(name);
        }
        IllegalStateException none = assertThrows(IllegalStateException.class, () -> AdapterStatus.layers(peft));
        assertTrue(none.getMessage().contains("No adapter layers"), none.getMessage());
        assertThrows(IllegalStateException.class, () -> AdapterStatus.model(peft));
    }

    private static void freeze(LinearAdapter adapter, boolean frozen) {
        adapter.parameters().values().forEach(p -> p.freeze(frozen));
    }

    private void assertMatches(JsonObject golden, AdaptedModel peft) {
        assertMatches(golden, golden, peft, Map.of());
    }

    /**
     * Compares every field; {@code trainability} supplies requires_grad and trainable_params (the disabled state),
     * {@code moduleTypes} maps PEFT's module types to ours where they differ ({@code lora.Linear} stays).
     */
    private void assertMatches(
            JsonObject golden, JsonObject trainability, AdaptedModel peft, Map<String, String> moduleTypes) {
        String scenario = golden.get("scenario").getAsString();
        String device = dev.delora.djl.tree.BlockTree.parameters(peft.block())
                .values()
                .iterator()
                .next()
                .getArray()
                .getDevice()
                .getDeviceType();
        List<LayerStatus> layers = AdapterStatus.layers(peft);
        List<JsonElement> want = golden.getAsJsonArray("layers").asList();
        List<JsonElement> wantGrad = trainability.getAsJsonArray("layers").asList();
        assertEquals(want.size(), layers.size(), scenario + ": layers");
        for (int i = 0; i < layers.size(); i++) {
            JsonObject w = want.get(i).getAsJsonObject();
            LayerStatus got = layers.get(i);
            String at = scenario + ", " + got.name() + ": ";
            assertEquals(w.get("name").getAsString(), "model." + got.name(), at + "name (tree order)");
            String type = w.get("module_type").getAsString();
            assertEquals(moduleTypes.getOrDefault(type, type), got.moduleType(), at + "module_type");
            assertEquals(w.get("enabled").getAsBoolean(), got.enabled(), at + "enabled");
            assertEquals(names(w.get("active_adapters")), got.activeAdapters(), at + "active_adapters");
            assertEquals(names(w.get("merged_adapters")), got.mergedAdapters(), at + "merged_adapters");
            assertEquals(
                    flags(wantGrad.get(i).getAsJsonObject().getAsJsonObject("requires_grad")),
                    got.requiresGrad(),
                    at + "requires_grad");
            assertEquals(names(w.get("available_adapters")), got.availableAdapters(), at + "available_adapters");
            assertEquals(devices(w.getAsJsonObject("devices"), device), got.devices(), at + "devices");
        }

        JsonObject m = golden.getAsJsonObject("model");
        ModelStatus got = AdapterStatus.model(peft);
        String at = scenario + ", model: ";
        Map<String, String> peftTypes = new LinkedHashMap<>();
        m.getAsJsonObject("peft_types")
                .entrySet()
                .forEach(e -> peftTypes.put(e.getKey(), e.getValue().getAsString()));
        assertEquals(peftTypes, got.peftTypes(), at + "peft_types");
        assertEquals(
                trainability.getAsJsonObject("model").get("trainable_params").getAsLong(),
                got.trainableParams(),
                at + "trainable_params");
        assertEquals(m.get("total_params").getAsLong(), got.totalParams(), at + "total_params");
        assertEquals(m.get("num_adapter_layers").getAsInt(), got.numAdapterLayers(), at + "num_adapter_layers");
        JsonElement enabled = m.get("enabled");
        assertEquals(isIrregular(enabled) ? Uniform.irregular() : Uniform.of(enabled.getAsBoolean()), got.enabled());
        assertEquals(uniformNames(m.get("active_adapters")), got.activeAdapters(), at + "active_adapters");
        assertEquals(uniformNames(m.get("merged_adapters")), got.mergedAdapters(), at + "merged_adapters");
        assertEquals(
                flags(trainability.getAsJsonObject("model").getAsJsonObject("requires_grad")),
                got.requiresGrad(),
                at + "requires_grad");
        assertEquals(names(m.get("available_adapters")), got.availableAdapters(), at + "available_adapters");
        assertEquals(devices(m.getAsJsonObject("devices"), device), got.devices(), at + "devices");
    }

    private static boolean isIrregular(JsonElement e) {
        return e.isJsonPrimitive()
                && e.getAsJsonPrimitive().isString()
                && AdapterStatus.IRREGULAR.equals(e.getAsString());
    }

    private static List<String> names(JsonElement e) {
        List<String> out = new ArrayList<>();
        e.getAsJsonArray().forEach(x -> out.add(x.getAsString()));
        return out;
    }

    private static Uniform<List<String>> uniformNames(JsonElement e) {
        return isIrregular(e) ? Uniform.irregular() : Uniform.of(names(e));
    }

    private static Map<String, Uniform<Boolean>> flags(JsonObject o) {
        Map<String, Uniform<Boolean>> out = new LinkedHashMap<>();
        o.entrySet()
                .forEach(e -> out.put(
                        e.getKey(),
                        isIrregular(e.getValue())
                                ? Uniform.irregular()
                                : Uniform.of(e.getValue().getAsBoolean())));
        return out;
    }

    /** PEFT ran on the CPU: its {@code cpu} is wherever this model's parameters are. */
    private static Map<String, List<String>> devices(JsonObject o, String device) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        o.entrySet()
                .forEach(e -> out.put(
                        e.getKey(),
                        names(e.getValue()).stream()
                                .map(d -> "cpu".equals(d) ? device : d)
                                .toList()));
        return out;
    }
}
