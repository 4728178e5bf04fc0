package dev.delora.djl.persist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.delora.core.AdapterConfig;
import dev.delora.core.AdapterConfigBuilder;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.delora.DeloraAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.linalg.RandomizedSvd;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.core.loraxs.LoraXsAdapter;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraAdapter;
import dev.delora.core.sora.SoraConfig;
import dev.delora.core.sora.SoraSchedule;
import dev.delora.core.sora.SoraThreshold;
import dev.delora.core.target.ModuleMatcher;
import dev.delora.core.target.TargetSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-method part of the PEFT on-disk format, written once per method: {@code adapter_config.json} fields, the
 * state-dict suffixes and shapes of one adapted module, and how an adapter is rebuilt from them. Everything else
 * (key prefixes, folders, validation, modules_to_save) is shared in {@link PeftAdapters}.
 */
final class AdapterFormats {

    private static final Logger LOG = LoggerFactory.getLogger(AdapterFormats.class);

    /** Our {@code peft_type} for DeLoRA's paper mode, which PEFT cannot load (it has no frozen C/D term). */
    static final String DELORA_PAPER = "DELORA_PAPER";

    private AdapterFormats() {}

    /** One method's format. */
    interface Format {
        /** The {@code adapter_config.json} fields of the method (targets and metadata are added by the caller). */
        JsonObject toJson(AdapterConfig config);

        /** Parses the method's fields; {@code targets} are already parsed. */
        AdapterConfig fromJson(Json json, TargetSpec targets);

        /** The state-dict suffixes of one module and their shapes, for a base weight {@code [out, in]}. */
        Map<String, Shape> shapes(AdapterConfig config, String path, long out, long in);

        /** Rebuilds the adapter of one module from validated float32 state (copied onto {@code manager}). */
        LinearAdapter restore(AdapterConfig config, String path, Map<String, NDArray> state, NDArray weight,
                NDManager manager);

        /** The adapter-input dropout (carried over when converting to LoRA: it acts on x in both forms). */
        float dropout(AdapterConfig config);
    }

    /**
     * Returns the format of a config.
     *
     * @param config an adapter config
     * @return its format
     */
    static Format of(AdapterConfig config) {
        if (config instanceof LoraConfig) {
            return LORA;
        } else if (config instanceof DeloraConfig) {
            return DELORA;
        } else if (config instanceof LoraXsConfig) {
            return LORAXS;
        } else if (config instanceof SoraConfig) {
            return SORA;
        }
        throw new IllegalArgumentException("No PEFT file format for " + config.getClass().getName());
    }

    /**
     * Returns the {@code peft_type} written for a config.
     *
     * @param config an adapter config
     * @return e.g. {@code LORA}, {@code DELORA}, {@code DELORA_PAPER}
     */
    static String peftType(AdapterConfig config) {
        return config instanceof DeloraConfig d && d.init() == DeloraInit.PAPER ? DELORA_PAPER : config.peftType();
    }

    /**
     * Returns the format for a {@code peft_type} read from a file.
     *
     * @param peftType the type
     * @param source the file, for messages
     * @return the format
     */
    static Format of(String peftType, String source) {
        return switch (peftType) {
            case "LORA" -> LORA;
            case "DELORA", DELORA_PAPER -> DELORA;
            case "LORAXS" -> LORAXS;
            case "SORA" -> SORA;
            default -> throw new IllegalArgumentException(source + ": peft_type '" + peftType + "' is not supported; "
                    + "supported: LORA, DELORA, " + DELORA_PAPER + ", LORAXS, SORA");
        };
    }

    // ------------------------------------------------------------------ LoRA

    static final Format LORA = new Format() {
        @Override
        public JsonObject toJson(AdapterConfig c) {
            LoraConfig l = (LoraConfig) c;
            JsonObject o = new JsonObject();
            o.addProperty("r", l.r());
            o.add("lora_alpha", number(l.loraAlpha()));
            o.add("lora_dropout", new JsonPrimitive((double) l.loraDropout()));
            o.addProperty("use_rslora", l.useRslora());
            o.add("init_lora_weights", switch (l.initLoraWeights()) {
                case DEFAULT -> new JsonPrimitive(true);
                case GAUSSIAN -> new JsonPrimitive("gaussian");
                case RANDOM -> new JsonPrimitive(false);
            });
            o.add("rank_pattern", intMap(l.rankPattern()));
            o.add("alpha_pattern", floatMap(l.alphaPattern()));
            o.addProperty("bias", "none");
            o.addProperty("fan_in_fan_out", false);
            o.addProperty("use_dora", false);
            o.addProperty("lora_bias", false);
            return o;
        }

        @Override
        public AdapterConfig fromJson(Json j, TargetSpec targets) {
            j.requireAbsentOrValue("use_dora", false, "DoRA adapters are not supported");
            j.requireAbsentOrValue("lora_bias", false, "LoRA bias terms are not supported");
            j.requireAbsentOrValue("use_qalora", false, "QALoRA adapters are not supported");
            j.requireNullOrEmpty("alora_invocation_tokens", "aLoRA adapters are not supported");
            j.requireNullOrEmpty("target_parameters", "target_parameters (adapting nn.Parameters) is not supported");
            j.requireNullOrEmpty("layer_replication", "layer_replication is not supported");
            j.requireNullOrEmpty("trainable_token_indices", "trainable_token_indices is not supported");
            for (String variant : List.of("use_bdlora", "velora_config", "kasa_config", "monteclora_config",
                    "arrow_config")) {
                j.requireNullOrEmpty(variant, "LoRA variant '" + variant + "' is not supported");
            }
            LoraConfig.Builder b = LoraConfig.builder()
                    .r(j.integer("r", 8))
                    .loraAlpha(j.number("lora_alpha", 8))
                    .loraDropout(j.number("lora_dropout", 0))
                    .useRslora(j.bool("use_rslora", false))
                    .initLoraWeights(loraInit(j));
            j.intMap("rank_pattern").forEach(b::rankPattern);
            j.floatMap("alpha_pattern").forEach(b::alphaPattern);
            return targets(b, targets).build();
        }

        private LoraInit loraInit(Json j) {
            JsonElement e = j.get("init_lora_weights");
            if (e == null || e.isJsonNull() || e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
                return e == null || e.isJsonNull() || e.getAsBoolean() ? LoraInit.DEFAULT : LoraInit.RANDOM;
            }
            if (e.isJsonPrimitive() && "gaussian".equals(e.getAsString())) {
                return LoraInit.GAUSSIAN;
            }
            // PiSSA, OLoRA, CorDA, LoftQ, … change the base weights (or need data); the saved A/B alone are not the
            // adapter then
            throw j.error("init_lora_weights " + e + " is not supported (it changes or depends on the base weights); "
                    + "supported: true, false, \"gaussian\"");
        }

        @Override
        public Map<String, Shape> shapes(AdapterConfig c, String path, long out, long in) {
            int r = ((LoraConfig) c).rankFor(path);
            Map<String, Shape> m = new LinkedHashMap<>();
            m.put(LoraAdapter.A, new Shape(r, in));
            m.put(LoraAdapter.B, new Shape(out, r));
            return m;
        }

        @Override
        public LinearAdapter restore(AdapterConfig c, String path, Map<String, NDArray> state, NDArray weight,
                NDManager manager) {
            LoraConfig l = (LoraConfig) c;
            // LoraFactors is only a holder here: fromFactors copies, the caller closes the state arrays
            LoraFactors f = new LoraFactors(state.get(LoraAdapter.A), state.get(LoraAdapter.B), l.scalingFor(path));
            return LoraAdapter.fromFactors(f, l.loraDropout(), manager);
        }

        @Override
        public float dropout(AdapterConfig c) {
            return ((LoraConfig) c).loraDropout();
        }
    };

    // ------------------------------------------------------------------ DeLoRA

    static final Format DELORA = new Format() {
        @Override
        public JsonObject toJson(AdapterConfig c) {
            DeloraConfig d = (DeloraConfig) c;
            JsonObject o = new JsonObject();
            o.addProperty("r", d.r());
            o.add("delora_lambda", number(d.deloraLambda()));
            o.add("module_dropout", new JsonPrimitive((double) d.moduleDropout()));
            // PEFT's init_weights is a bool; paper mode has its own peft_type (PEFT refuses it) and says so here too
            o.add("init_weights", switch (d.init()) {
                case ZERO_B -> new JsonPrimitive(true);
                case RANDOM -> new JsonPrimitive(false);
                case PAPER -> new JsonPrimitive("paper");
            });
            o.add("rank_pattern", intMap(d.rankPattern()));
            o.add("lambda_pattern", floatMap(d.lambdaPattern()));
            o.addProperty("bias", "none");
            return o;
        }

        @Override
        public AdapterConfig fromJson(Json j, TargetSpec targets) {
            boolean paper = DELORA_PAPER.equals(j.string("peft_type", ""));
            JsonElement init = j.get("init_weights");
            DeloraInit mode;
            if (paper) {
                if (init != null && !init.isJsonNull() && !"paper".equals(init.getAsString())) {
                    throw j.error("peft_type " + DELORA_PAPER + " needs init_weights \"paper\", got " + init);
                }
                mode = DeloraInit.PAPER;
            } else if (init == null || init.isJsonNull()) {
                mode = DeloraInit.ZERO_B;
            } else if (init.isJsonPrimitive() && init.getAsJsonPrimitive().isBoolean()) {
                mode = init.getAsBoolean() ? DeloraInit.ZERO_B : DeloraInit.RANDOM;
            } else {
                throw j.error("init_weights must be true or false for peft_type DELORA, got " + init
                        + " (paper-mode adapters are saved with peft_type " + DELORA_PAPER + ")");
            }
            DeloraConfig.Builder b = DeloraConfig.builder()
                    .r(j.integer("r", 8))
                    .deloraLambda(j.number("delora_lambda", 15))
                    .moduleDropout(j.number("module_dropout", 0))
                    .init(mode);
            j.intMap("rank_pattern").forEach(b::rankPattern);
            j.floatMap("lambda_pattern").forEach(b::lambdaPattern);
            return targets(b, targets).build();
        }

        @Override
        public Map<String, Shape> shapes(AdapterConfig c, String path, long out, long in) {
            DeloraConfig d = (DeloraConfig) c;
            int r = d.rankFor(path);
            Map<String, Shape> m = new LinkedHashMap<>();
            m.put(DeloraAdapter.A, new Shape(r, in));
            m.put(DeloraAdapter.B, new Shape(out, r));
            m.put(DeloraAdapter.LAMBDA, new Shape(1));
            m.put(DeloraAdapter.W_NORM, new Shape(in));
            if (d.init() == DeloraInit.PAPER) {
                m.put(DeloraAdapter.C, new Shape(r, in));
                m.put(DeloraAdapter.D, new Shape(out, r));
            }
            return m;
        }

        @Override
        public LinearAdapter restore(AdapterConfig c, String path, Map<String, NDArray> state, NDArray weight,
                NDManager manager) {
            return DeloraAdapter.restore(state, ((DeloraConfig) c).moduleDropout(), manager);
        }

        @Override
        public float dropout(AdapterConfig c) {
            return ((DeloraConfig) c).moduleDropout();
        }
    };

    // ------------------------------------------------------------------ LoRA-XS

    static final Format LORAXS = new Format() {
        @Override
        public JsonObject toJson(AdapterConfig c) {
            LoraXsConfig x = (LoraXsConfig) c;
            JsonObject o = new JsonObject();
            o.addProperty("r", x.r());
            o.add("lora_alpha", number(x.loraAlpha()));
            o.add("lora_dropout", new JsonPrimitive((double) x.loraDropout()));
            o.add("init_std", new JsonPrimitive((double) x.initStd()));
            o.addProperty("svd_oversamples", x.svd().oversamples());
            o.addProperty("svd_n_iter", x.svd().powerIterations());
            o.addProperty("svd_random_state", x.svd().seed());
            o.addProperty("svd_float64", x.svd().preferFloat64());
            o.add("rank_pattern", intMap(x.rankPattern()));
            o.add("alpha_pattern", floatMap(x.alphaPattern()));
            o.addProperty("bias", "none");
            return o;
        }

        @Override
        public AdapterConfig fromJson(Json j, TargetSpec targets) {
            RandomizedSvd.Options d = RandomizedSvd.Options.of(1);
            LoraXsConfig.Builder b = LoraXsConfig.builder()
                    .r(j.integer("r", 8))
                    .loraAlpha(j.number("lora_alpha", 16))
                    .loraDropout(j.number("lora_dropout", 0))
                    .initStd(j.number("init_std", 1e-5f))
                    .svd(new RandomizedSvd.Options(1, j.integer("svd_oversamples", d.oversamples()),
                            j.integer("svd_n_iter", d.powerIterations()), j.longValue("svd_random_state", d.seed()),
                            j.bool("svd_float64", d.preferFloat64())));
            j.intMap("rank_pattern").forEach(b::rankPattern);
            j.floatMap("alpha_pattern").forEach(b::alphaPattern);
            return targets(b, targets).build();
        }

        @Override
        public Map<String, Shape> shapes(AdapterConfig c, String path, long out, long in) {
            int r = ((LoraXsConfig) c).rankFor(path);
            Map<String, Shape> m = new LinkedHashMap<>();
            m.put(LoraXsAdapter.A, new Shape(r, in));
            m.put(LoraXsAdapter.B, new Shape(out, r));
            m.put(LoraXsAdapter.R, new Shape(r, r));
            return m;
        }

        @Override
        public LinearAdapter restore(AdapterConfig c, String path, Map<String, NDArray> state, NDArray weight,
                NDManager manager) {
            LoraXsConfig x = (LoraXsConfig) c;
            return LoraXsAdapter.restore(state, x.scalingFor(path), x.loraDropout(), manager);
        }

        @Override
        public float dropout(AdapterConfig c) {
            return ((LoraXsConfig) c).loraDropout();
        }
    };

    // ------------------------------------------------------------------ SoRA

    static final Format SORA = new Format() {
        @Override
        public JsonObject toJson(AdapterConfig c) {
            SoraConfig s = (SoraConfig) c;
            JsonObject o = new JsonObject();
            o.addProperty("r", s.r());
            o.add("lora_alpha", number(s.loraAlpha()));
            o.add("lora_dropout", new JsonPrimitive((double) s.loraDropout()));
            o.add("sparse_lambda", new JsonPrimitive((double) s.sparseLambda()));
            o.add("sparse_lambda_2", new JsonPrimitive((double) s.sparseLambda2()));
            o.addProperty("threshold", s.threshold().name().toLowerCase(Locale.ROOT));
            if (s.lambdaSchedule() == null) {
                o.add("lambda_schedule", JsonNull.INSTANCE);
            } else {
                o.addProperty("lambda_schedule", s.lambdaSchedule().name().toLowerCase(Locale.ROOT));
                o.add("max_lambda", new JsonPrimitive((double) s.maxLambda()));
                o.addProperty("lambda_num", s.lambdaNum());
            }
            o.add("rank_pattern", intMap(s.rankPattern()));
            o.addProperty("bias", "none");
            return o;
        }

        @Override
        public AdapterConfig fromJson(Json j, TargetSpec targets) {
            SoraConfig.Builder b = SoraConfig.builder()
                    .r(j.integer("r", 8))
                    .loraAlpha(j.number("lora_alpha", 16))
                    .loraDropout(j.number("lora_dropout", 0))
                    .sparseLambda(j.number("sparse_lambda", 10))
                    .sparseLambda2(j.number("sparse_lambda_2", 3e-4f))
                    .threshold(j.enumValue("threshold", SoraThreshold.class, SoraThreshold.REFERENCE));
            SoraSchedule schedule = j.enumValue("lambda_schedule", SoraSchedule.class, null);
            if (schedule != null) {
                b.lambdaSchedule(schedule, j.number("max_lambda", 0), j.integer("lambda_num", 0));
            }
            j.intMap("rank_pattern").forEach(b::rankPattern);
            return targets(b, targets).build();
        }

        @Override
        public Map<String, Shape> shapes(AdapterConfig c, String path, long out, long in) {
            int r = ((SoraConfig) c).rankFor(path);
            Map<String, Shape> m = new LinkedHashMap<>();
            m.put(SoraAdapter.A, new Shape(r, in));
            m.put(SoraAdapter.B, new Shape(out, r));
            m.put(SoraAdapter.GATE, new Shape(1, r));
            return m;
        }

        @Override
        public LinearAdapter restore(AdapterConfig c, String path, Map<String, NDArray> state, NDArray weight,
                NDManager manager) {
            // SoraAdapter has no restore factory; it keeps no state derived from its parameters, so a fresh adapter
            // with the saved values copied in is the saved adapter
            LinearAdapter a = c.create(path, weight, manager);
            a.parameters().forEach((key, p) -> p.getArray().set(new NDIndex(":"), state.get(key)));
            return a;
        }

        @Override
        public float dropout(AdapterConfig c) {
            return ((SoraConfig) c).loraDropout();
        }
    };

    // ------------------------------------------------------------------ shared JSON helpers

    /** The targeting fields every method shares, in PEFT's encoding. */
    static void writeTargets(JsonObject o, TargetSpec t, List<String> modulesToSave) {
        o.add("target_modules", matcher(t.targetModules()));
        o.add("exclude_modules", t.excludeModules() == null ? JsonNull.INSTANCE : matcher(t.excludeModules()));
        o.add("layers_to_transform", t.layersToTransform().isEmpty() ? JsonNull.INSTANCE
                : strings(t.layersToTransform().stream().map(String::valueOf).toList(), true));
        o.add("layers_pattern", t.layersPattern().isEmpty() ? JsonNull.INSTANCE : strings(t.layersPattern(), false));
        o.add("modules_to_save", modulesToSave.isEmpty() ? JsonNull.INSTANCE : strings(modulesToSave, false));
    }

    /** Reads the targeting fields; {@code modulesToSave} is given (the caller filters it against the model). */
    static TargetSpec readTargets(Json j) {
        JsonElement target = j.get("target_modules");
        if (target == null || target.isJsonNull()) {
            throw j.error("target_modules is missing; PEFT writes the resolved list when it saves, so this file "
                    + "was not written by PEFT's save_pretrained");
        }
        ModuleMatcher exclude = j.has("exclude_modules") ? readMatcher(j, "exclude_modules") : null;
        List<Integer> layers = new ArrayList<>();
        JsonElement l = j.get("layers_to_transform");
        if (l != null && !l.isJsonNull()) {
            if (l.isJsonArray()) {
                l.getAsJsonArray().forEach(e -> layers.add(e.getAsInt()));
            } else {
                layers.add(l.getAsInt());
            }
        }
        List<String> pattern = j.stringList("layers_pattern");
        return new TargetSpec(readMatcher(j, "target_modules"), exclude, layers, pattern, j.stringList(
                "modules_to_save"));
    }

    private static ModuleMatcher readMatcher(Json j, String field) {
        JsonElement e = j.get(field);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.isJsonPrimitive()) {
            return ModuleMatcher.regex(e.getAsString());
        }
        return ModuleMatcher.names(j.stringList(field));
    }

    private static <B extends AdapterConfigBuilder<B>> B targets(B b, TargetSpec t) {
        b.targetModules(t.targetModules()).excludeModules(t.excludeModules())
                .layersToTransform(t.layersToTransform().stream().mapToInt(Integer::intValue).toArray())
                .layersPattern(t.layersPattern().toArray(String[]::new))
                .modulesToSave(t.modulesToSave().toArray(String[]::new));
        return b;
    }

    private static JsonElement matcher(ModuleMatcher m) {
        return m.regex() != null ? new JsonPrimitive(m.regex()) : strings(m.names(), false);
    }

    private static JsonArray strings(List<String> values, boolean asInts) {
        JsonArray a = new JsonArray();
        values.forEach(v -> a.add(asInts ? new JsonPrimitive(Integer.parseInt(v)) : new JsonPrimitive(v)));
        return a;
    }

    /** Writes integral floats as integers, as PEFT's configs show them ({@code "lora_alpha": 8}). */
    static JsonPrimitive number(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? new JsonPrimitive((long) v) : new JsonPrimitive((double) v);
    }

    private static JsonObject intMap(Map<String, Integer> m) {
        JsonObject o = new JsonObject();
        m.forEach(o::addProperty);
        return o;
    }

    private static JsonObject floatMap(Map<String, Float> m) {
        JsonObject o = new JsonObject();
        m.forEach((k, v) -> o.add(k, number(v)));
        return o;
    }

    /**
     * A parsed {@code adapter_config.json} that remembers which fields were read, so the rest can be reported, and
     * names its file in every error.
     */
    static final class Json {
        /** Fields that only describe where or how an adapter was made; they do not change what it computes. */
        private static final Set<String> METADATA = Set.of("peft_type", "task_type", "base_model_name_or_path",
                "revision", "inference_mode", "peft_version", "auto_mapping", "bias", "fan_in_fan_out",
                "megatron_config", "megatron_core", "loftq_config", "eva_config", "corda_config", "lora_ga_config",
                "qalora_group_size", "ensure_weight_tying");

        private final JsonObject o;
        private final String source;
        private final Set<String> read = new java.util.HashSet<>();

        Json(JsonObject o, String source) {
            this.o = o;
            this.source = source;
        }

        IllegalArgumentException error(String message) {
            return new IllegalArgumentException(source + ": " + message);
        }

        boolean has(String field) {
            return o.has(field);
        }

        JsonElement get(String field) {
            read.add(field);
            return o.get(field);
        }

        private <T> T typed(String field, T fallback, java.util.function.Function<JsonElement, T> f, String kind) {
            JsonElement e = get(field);
            if (e == null || e.isJsonNull()) {
                return fallback;
            }
            try {
                return f.apply(e);
            } catch (RuntimeException ex) {
                throw error("field '" + field + "' must be " + kind + ", got " + e);
            }
        }

        int integer(String field, int fallback) {
            return typed(field, fallback, e -> {
                double d = e.getAsJsonPrimitive().getAsNumber().doubleValue();
                if (d != Math.rint(d)) {
                    throw new NumberFormatException();
                }
                return (int) d;
            }, "an integer");
        }

        long longValue(String field, long fallback) {
            return typed(field, fallback, e -> e.getAsJsonPrimitive().getAsNumber().longValue(), "an integer");
        }

        float number(String field, float fallback) {
            return typed(field, fallback, e -> e.getAsJsonPrimitive().getAsNumber().floatValue(), "a number");
        }

        boolean bool(String field, boolean fallback) {
            return typed(field, fallback, e -> {
                if (!e.getAsJsonPrimitive().isBoolean()) {
                    throw new IllegalStateException();
                }
                return e.getAsBoolean();
            }, "true or false");
        }

        String string(String field, String fallback) {
            return typed(field, fallback, e -> e.getAsJsonPrimitive().getAsString(), "a string");
        }

        <E extends Enum<E>> E enumValue(String field, Class<E> type, E fallback) {
            String s = string(field, null);
            if (s == null) {
                return fallback;
            }
            try {
                return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw error("field '" + field + "' is '" + s + "'; expected one of "
                        + java.util.Arrays.stream(type.getEnumConstants()).map(v -> v.name().toLowerCase(Locale.ROOT))
                                .toList());
            }
        }

        /** A string or a list of strings, as PEFT allows for {@code layers_pattern} and friends. */
        List<String> stringList(String field) {
            return typed(field, List.of(), e -> {
                if (e.isJsonPrimitive()) {
                    return List.of(e.getAsString());
                }
                List<String> out = new ArrayList<>();
                e.getAsJsonArray().forEach(v -> out.add(v.getAsJsonPrimitive().getAsString()));
                return out;
            }, "a string or a list of strings");
        }

        Map<String, Integer> intMap(String field) {
            Map<String, Integer> out = new LinkedHashMap<>();
            mapEntries(field, (k, v) -> out.put(k, v.getAsInt()));
            return out;
        }

        Map<String, Float> floatMap(String field) {
            Map<String, Float> out = new LinkedHashMap<>();
            mapEntries(field, (k, v) -> out.put(k, v.getAsFloat()));
            return out;
        }

        private void mapEntries(String field, BiConsumer<String, JsonElement> sink) {
            JsonElement e = get(field);
            if (e == null || e.isJsonNull()) {
                return;
            }
            if (!e.isJsonObject()) {
                throw error("field '" + field + "' must be an object of pattern -> value, got " + e);
            }
            for (Map.Entry<String, JsonElement> entry : e.getAsJsonObject().entrySet()) {
                try {
                    sink.accept(entry.getKey(), entry.getValue());
                } catch (RuntimeException ex) {
                    throw error("field '" + field + "' entry '" + entry.getKey() + "' must be a number, got "
                            + entry.getValue());
                }
            }
        }

        /** Rejects a field unless it is absent, null or equal to {@code expected}. */
        void requireAbsentOrValue(String field, boolean expected, String why) {
            JsonElement e = get(field);
            if (e != null && !e.isJsonNull() && !(e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()
                    && e.getAsBoolean() == expected)) {
                throw error(why + " (" + field + " = " + e + ")");
            }
        }

        /** Rejects a field unless it is absent, null, false, or an empty list/object. */
        void requireNullOrEmpty(String field, String why) {
            JsonElement e = get(field);
            boolean empty = e == null || e.isJsonNull()
                    || e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean() && !e.getAsBoolean()
                    || e.isJsonArray() && e.getAsJsonArray().isEmpty()
                    || e.isJsonObject() && e.getAsJsonObject().isEmpty();
            if (!empty) {
                throw error(why + " (" + field + " = " + e + ")");
            }
        }

        /** Checks the fields every method shares and logs the ones nobody read. */
        void finish() {
            String bias = o.has("bias") && !o.get("bias").isJsonNull() ? o.get("bias").getAsString() : "none";
            if (!"none".equals(bias)) {
                throw error("bias '" + bias + "' is not supported (only \"none\": base biases stay frozen)");
            }
            JsonElement fan = o.get("fan_in_fan_out");
            if (fan != null && fan.isJsonPrimitive() && fan.getAsJsonPrimitive().isBoolean() && fan.getAsBoolean()) {
                throw error("fan_in_fan_out=true (GPT-2 Conv1D weights) is not supported; DJL Linear weights are "
                        + "[out, in]");
            }
            for (String key : o.keySet()) {
                if (!read.contains(key) && !METADATA.contains(key)) {
                    LOG.debug("{}: ignoring field '{}' = {}", source, key, o.get(key));
                }
            }
        }
    }

    /** Converts a loaded tensor to float32 (F16/BF16 are read as F32 already; F64 is narrowed). */
    static NDArray float32(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
    }
}
