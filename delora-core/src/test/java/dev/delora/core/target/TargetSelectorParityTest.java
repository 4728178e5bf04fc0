package dev.delora.core.target;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.fixtures.Fixtures;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every case PEFT 0.21.2 decided in parity/targets.py: the targeted set and the resolved rank/alpha/lambda. */
class TargetSelectorParityTest {

    @TestFactory
    List<DynamicTest> matchesPeftOnEveryCase() {
        JsonObject root =
                JsonParser.parseString(Fixtures.text("targets/cases.json")).getAsJsonObject();
        List<String> names = strings(root.getAsJsonArray("module_names"));
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : root.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            tests.add(DynamicTest.dynamicTest(c.get("name").getAsString(), () -> check(c, names)));
        }
        return tests;
    }

    private static void check(JsonObject c, List<String> names) {
        JsonObject cfg = c.getAsJsonObject("config");
        TargetSelector selector = new TargetSelector(spec(cfg));
        List<String> expected = strings(c.getAsJsonArray("targeted"));
        List<String> actual = names.stream().filter(selector::isTarget).toList();
        assertEquals(new TreeSet<>(expected), new TreeSet<>(actual));

        JsonObject resolved = c.getAsJsonObject("resolved");
        boolean delora =
                cfg.has("peft_type") && cfg.get("peft_type").getAsString().equals("DELORA");
        for (Map.Entry<String, JsonElement> r : resolved.entrySet()) {
            String path = r.getKey();
            JsonObject want = r.getValue().getAsJsonObject();
            if (delora) {
                DeloraConfig d = DeloraConfig.builder()
                        .r(cfg.get("r").getAsInt())
                        .deloraLambda(cfg.get("delora_lambda").getAsFloat())
                        .targetModules("x")
                        .build();
                d = new DeloraConfig(
                        d.r(),
                        d.deloraLambda(),
                        0,
                        d.init(),
                        d.targets(),
                        intMap(cfg.getAsJsonObject("rank_pattern")),
                        floatMap(cfg.getAsJsonObject("lambda_pattern")));
                assertEquals(want.get("r").getAsInt(), d.rankFor(path), path);
                assertEquals(want.get("lambda").getAsFloat(), d.lambdaFor(path), 0f, path);
            } else {
                LoraConfig.Builder b = LoraConfig.builder().targetModules("x");
                if (cfg.has("r")) {
                    b.r(cfg.get("r").getAsInt());
                }
                if (cfg.has("lora_alpha")) {
                    b.loraAlpha(cfg.get("lora_alpha").getAsFloat());
                }
                intMap(cfg.getAsJsonObject("rank_pattern")).forEach(b::rankPattern);
                floatMap(cfg.getAsJsonObject("alpha_pattern")).forEach(b::alphaPattern);
                LoraConfig l = b.build();
                assertEquals(want.get("r").getAsInt(), l.rankFor(path), path);
                assertEquals(want.get("alpha").getAsFloat(), l.alphaFor(path), 0f, path);
            }
        }
    }

    static TargetSpec spec(JsonObject cfg) {
        return new TargetSpec(
                matcher(cfg.get("target_modules")),
                cfg.has("exclude_modules") ? matcher(cfg.get("exclude_modules")) : null,
                ints(cfg.get("layers_to_transform")),
                cfg.has("layers_pattern") ? stringsOrOne(cfg.get("layers_pattern")) : List.of(),
                cfg.has("modules_to_save") ? strings(cfg.getAsJsonArray("modules_to_save")) : List.of());
    }

    private static ModuleMatcher matcher(JsonElement e) {
        return e.isJsonPrimitive()
                ? ModuleMatcher.regex(e.getAsString())
                : ModuleMatcher.names(strings(e.getAsJsonArray()));
    }

    private static List<Integer> ints(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return List.of();
        }
        if (e.isJsonPrimitive()) {
            return List.of(e.getAsInt());
        }
        List<Integer> out = new ArrayList<>();
        e.getAsJsonArray().forEach(x -> out.add(x.getAsInt()));
        return out;
    }

    private static List<String> stringsOrOne(JsonElement e) {
        return e.isJsonPrimitive() ? List.of(e.getAsString()) : strings(e.getAsJsonArray());
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(x -> out.add(x.getAsString()));
        return out;
    }

    private static Map<String, Integer> intMap(JsonObject o) {
        Map<String, Integer> m = new LinkedHashMap<>();
        if (o != null) {
            o.entrySet().forEach(en -> m.put(en.getKey(), en.getValue().getAsInt()));
        }
        return m;
    }

    private static Map<String, Float> floatMap(JsonObject o) {
        Map<String, Float> m = new LinkedHashMap<>();
        if (o != null) {
            o.entrySet().forEach(en -> m.put(en.getKey(), en.getValue().getAsFloat()));
        }
        return m;
    }
}
