package dev.delora.core.delora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.ConfigFields;
import dev.delora.core.method.FieldValues;
import dev.delora.core.method.ParameterGroup;
import dev.delora.core.method.TrainingContext;
import dev.delora.core.method.TrainingExtension;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * DeLoRA's PEFT format and training. {@code init_weights} true/false files are exactly PEFT 0.21.2's
 * {@code DeloraConfig}; the paper's frozen-copy init is saved under our own {@code peft_type}
 * {@value #PAPER_PEFT_TYPE} with {@code init_weights: "paper"} and the frozen copies {@code frozen_C}/{@code frozen_D},
 * which PEFT refuses instead of loading a different adapter.
 *
 * <p>Training: λ ({@code delora_lambda}) gets its own parameter group, as the reference {@code glue_delora.py} does
 * with {@code --delora_lambda_lr}: learning rate {@code learningRate("delora_lambda", base lr)} of the
 * {@link TrainingContext}, with the run's weight decay.
 */
public final class DeloraMethod implements AdapterMethod {

    /** Our {@code peft_type} for the paper's frozen-copy init, which PEFT cannot load. */
    public static final String PAPER_PEFT_TYPE = "DELORA_PAPER";
    /** The name of λ's parameter group, under which callers set its learning rate. */
    public static final String LAMBDA_GROUP = "delora_lambda";

    /** Creates the method (the registry instantiates it). */
    public DeloraMethod() {}

    @Override
    public String name() {
        return "delora";
    }

    @Override
    public Class<DeloraConfig> configType() {
        return DeloraConfig.class;
    }

    @Override
    public Set<String> peftTypes() {
        return Set.of("DELORA", PAPER_PEFT_TYPE);
    }

    @Override
    public Map<String, Object> toFields(AdapterConfig config) {
        DeloraConfig d = AdapterMethod.cast(DeloraConfig.class, config);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("r", d.r());
        o.put("delora_lambda", FieldValues.number(d.deloraLambda()));
        o.put("module_dropout", FieldValues.decimal(d.moduleDropout()));
        // PEFT's init_weights is a bool; paper mode has its own peft_type (PEFT refuses it) and says so here too
        o.put(
                "init_weights",
                switch (d.init()) {
                    case ZERO_B -> true;
                    case RANDOM -> false;
                    case PAPER -> "paper";
                });
        o.put("rank_pattern", new LinkedHashMap<>(d.rankPattern()));
        o.put("lambda_pattern", FieldValues.numbers(d.lambdaPattern()));
        o.put("bias", "none");
        return o;
    }

    @Override
    public DeloraConfig fromFields(ConfigFields j, TargetSpec targets) {
        String peftType = j.string("peft_type", null);
        Object init = j.get("init_weights");
        DeloraInit mode;
        if (PAPER_PEFT_TYPE.equals(peftType)) {
            if (init != null && !"paper".equals(init)) {
                throw j.error("peft_type " + PAPER_PEFT_TYPE + " needs init_weights \"paper\", got " + init);
            }
            mode = DeloraInit.PAPER;
        } else if (init == null) {
            mode = DeloraInit.ZERO_B;
        } else if (init instanceof Boolean b) {
            mode = b ? DeloraInit.ZERO_B : DeloraInit.RANDOM;
        } else if ("paper".equals(init) && peftType == null) {
            mode = DeloraInit.PAPER; // fields given by a program or command line, not a file
        } else {
            throw j.error("init_weights must be true or false for peft_type DELORA, got " + init
                    + " (paper-mode adapters are saved with peft_type " + PAPER_PEFT_TYPE + ")");
        }
        DeloraConfig.Builder b = DeloraConfig.builder()
                .r(j.integer("r", 8))
                .deloraLambda(j.number("delora_lambda", 15))
                .moduleDropout(j.number("module_dropout", 0))
                .init(mode);
        j.intMap("rank_pattern").forEach(b::rankPattern);
        j.floatMap("lambda_pattern").forEach(b::lambdaPattern);
        return b.targets(targets).build();
    }

    @Override
    public Map<String, Shape> stateShapes(AdapterConfig config, String path, long out, long in) {
        DeloraConfig d = AdapterMethod.cast(DeloraConfig.class, config);
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
    public LinearAdapter restore(
            AdapterConfig config, String path, Map<String, NDArray> state, NDArray weight, NDManager manager) {
        return DeloraAdapter.restore(
                state, AdapterMethod.cast(DeloraConfig.class, config).moduleDropout(), manager);
    }

    @Override
    public TrainingExtension training(AdapterConfig config, TrainingContext context) {
        AdapterMethod.cast(DeloraConfig.class, config);
        Set<String> lambdas =
                Set.copyOf(context.parameters(DeloraAdapter.LAMBDA).keySet());
        ParameterGroup group = ParameterGroup.withLr(
                LAMBDA_GROUP,
                lambdas::contains,
                context.learningRate(LAMBDA_GROUP, context.learningRate()),
                context.weightDecay());
        return new TrainingExtension() {
            @Override
            public List<ParameterGroup> parameterGroups() {
                return List.of(group);
            }
        };
    }
}
