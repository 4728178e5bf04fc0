package dev.delora.core.sora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.ConfigFields;
import dev.delora.core.method.FieldValues;
import dev.delora.core.method.TrainingContext;
import dev.delora.core.method.TrainingExtension;
import dev.delora.core.target.TargetSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * SoRA's format (our own {@code peft_type} {@code SORA}; PEFT has no SoRA) and its training, all read from the
 * config as the reference ({@code TsinghuaC3I/SoRA}) trains: the gates leave the main optimizer for a
 * {@link SoraGateOptimizer} (Adam + proximal threshold ξ = {@code sparse_lambda_2}, learning rate
 * {@code learningRate("sora_gate", base lr)}, stepped with the same schedule factor), the loss gains
 * {@code sparse_lambda · mean|g|}, and with a {@code lambda_schedule} training continues for {@code lambda_num − 1}
 * sparsifying rounds of {@value #EPOCHS_PER_ROUND} epochs, each raising ξ to the schedule's next value.
 */
public final class SoraMethod implements AdapterMethod {

    /** The name of the gates' group, under which callers set the gate learning rate ({@code sparse_lr}). */
    public static final String GATE_GROUP = "sora_gate";
    /** Epochs of each sparsifying round ({@code run_glue.py} trains 15 more epochs after each {@code step_lambda}). */
    public static final int EPOCHS_PER_ROUND = 15;

    /** Creates the method (the registry instantiates it). */
    public SoraMethod() {}

    @Override
    public String name() {
        return "sora";
    }

    @Override
    public Class<SoraConfig> configType() {
        return SoraConfig.class;
    }

    @Override
    public Set<String> peftTypes() {
        return Set.of("SORA");
    }

    @Override
    public Map<String, Object> toFields(AdapterConfig config) {
        SoraConfig s = AdapterMethod.cast(SoraConfig.class, config);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("r", s.r());
        o.put("lora_alpha", FieldValues.number(s.loraAlpha()));
        o.put("lora_dropout", FieldValues.decimal(s.loraDropout()));
        o.put("sparse_lambda", FieldValues.decimal(s.sparseLambda()));
        o.put("sparse_lambda_2", FieldValues.decimal(s.sparseLambda2()));
        o.put("threshold", s.threshold().name().toLowerCase(Locale.ROOT));
        if (s.lambdaSchedule() == null) {
            o.put("lambda_schedule", null);
        } else {
            o.put("lambda_schedule", s.lambdaSchedule().name().toLowerCase(Locale.ROOT));
            o.put("max_lambda", FieldValues.decimal(s.maxLambda()));
            o.put("lambda_num", s.lambdaNum());
        }
        o.put("rank_pattern", new LinkedHashMap<>(s.rankPattern()));
        o.put("bias", "none");
        return o;
    }

    @Override
    public SoraConfig fromFields(ConfigFields j, TargetSpec targets) {
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
        return b.targets(targets).build();
    }

    @Override
    public Map<String, Shape> stateShapes(AdapterConfig config, String path, long out, long in) {
        int r = AdapterMethod.cast(SoraConfig.class, config).rankFor(path);
        Map<String, Shape> m = new LinkedHashMap<>();
        m.put(SoraAdapter.A, new Shape(r, in));
        m.put(SoraAdapter.B, new Shape(out, r));
        m.put(SoraAdapter.GATE, new Shape(1, r));
        return m;
    }

    @Override
    public LinearAdapter restore(
            AdapterConfig config, String path, Map<String, NDArray> state, NDArray weight, NDManager manager) {
        // SoraAdapter keeps no state derived from its parameters, so a fresh adapter with the saved values copied in
        // is the saved adapter
        LinearAdapter a = AdapterMethod.cast(SoraConfig.class, config).create(path, weight, manager);
        a.parameters().forEach((key, p) -> ArrayOps.assign(p.getArray(), state.get(key)));
        return a;
    }

    @Override
    public TrainingExtension training(AdapterConfig config, TrainingContext context) {
        SoraConfig s = AdapterMethod.cast(SoraConfig.class, config);
        Map<String, Parameter> gates = context.parameters(SoraAdapter.GATE);
        if (gates.isEmpty()) {
            return TrainingExtension.NONE;
        }
        double gateLr = context.learningRate(GATE_GROUP, context.learningRate());
        SoraGateOptimizer optimizer = new SoraGateOptimizer(gates.values(), gateLr, s.sparseLambda2(), s.threshold());
        List<NDArray> gateArrays =
                gates.values().stream().map(Parameter::getArray).toList();
        Set<Parameter> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        owned.addAll(gates.values());
        List<TrainingExtension.Phase> rounds = new ArrayList<>();
        if (s.lambdaSchedule() != null) {
            double[] xis =
                    new SparsityScheduler(s.lambdaSchedule(), s.sparseLambda2(), s.maxLambda(), s.lambdaNum()).values();
            for (int i = 1; i < xis.length; i++) {
                double xi = xis[i];
                rounds.add(new TrainingExtension.Phase(
                        String.format(Locale.ROOT, "sparsify xi=%.3e", xi),
                        EPOCHS_PER_ROUND,
                        () -> optimizer.setThreshold(xi)));
            }
        }
        return new TrainingExtension() {
            @Override
            public Set<Parameter> ownedParameters() {
                return Collections.unmodifiableSet(owned);
            }

            @Override
            public NDArray extraLoss(NDManager stepManager) {
                return s.sparseLambda() == 0
                        ? null
                        : SoraGateOptimizer.l1Penalty(gateArrays, s.sparseLambda(), stepManager);
            }

            @Override
            public void afterStep(int step, double lrFactor) {
                optimizer.step(lrFactor);
            }

            @Override
            public List<Phase> continuationPhases() {
                return List.copyOf(rounds);
            }

            @Override
            public void close() {
                optimizer.close();
            }
        };
    }
}
