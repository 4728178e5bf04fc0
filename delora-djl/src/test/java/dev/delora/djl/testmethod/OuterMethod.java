package dev.delora.djl.testmethod;

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
import dev.delora.core.method.ParameterGroup;
import dev.delora.core.method.TrainingContext;
import dev.delora.core.method.TrainingExtension;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The format and training of {@link OuterConfig}; registered in this module's test resources. */
public final class OuterMethod implements AdapterMethod {

    /** The test method's peft_type. */
    public static final String PEFT_TYPE = "OUTER_TEST";
    /** A scale whose adapters fail to restore on module {@code 03Linear}, as an engine error would. */
    public static final float FAILING_SCALE = 666f;
    /** The group of the u vectors, for a group learning rate. */
    public static final String U_GROUP = "outer_u";

    @Override
    public String name() {
        return "outer";
    }

    @Override
    public Class<OuterConfig> configType() {
        return OuterConfig.class;
    }

    @Override
    public Set<String> peftTypes() {
        return Set.of(PEFT_TYPE);
    }

    @Override
    public Map<String, Object> toFields(AdapterConfig config) {
        OuterConfig c = AdapterMethod.cast(OuterConfig.class, config);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("outer_scale", FieldValues.number(c.scale()));
        o.put("outer_decay", FieldValues.decimal(c.decay()));
        return o;
    }

    @Override
    public AdapterConfig fromFields(ConfigFields fields, TargetSpec targets) {
        return new OuterConfig(fields.number("outer_scale", 1), fields.number("outer_decay", 0), targets);
    }

    @Override
    public Map<String, Shape> stateShapes(AdapterConfig config, String modulePath, long out, long in) {
        Map<String, Shape> m = new LinkedHashMap<>();
        m.put(OuterAdapter.U, new Shape(out));
        m.put(OuterAdapter.V, new Shape(in));
        return m;
    }

    @Override
    public LinearAdapter restore(
            AdapterConfig config, String modulePath, Map<String, NDArray> state, NDArray weight, NDManager manager) {
        if (AdapterMethod.cast(OuterConfig.class, config).scale() == FAILING_SCALE && modulePath.equals("03Linear")) {
            throw new ai.djl.engine.EngineException("simulated engine failure while restoring " + modulePath);
        }
        NDArray u = ArrayOps.ownedCopy(state.get(OuterAdapter.U));
        NDArray v = ArrayOps.ownedCopy(state.get(OuterAdapter.V));
        u.attach(manager);
        v.attach(manager);
        return new OuterAdapter(
                u, v, AdapterMethod.cast(OuterConfig.class, config).scale());
    }

    @Override
    public TrainingExtension training(AdapterConfig config, TrainingContext context) {
        OuterConfig c = AdapterMethod.cast(OuterConfig.class, config);
        Set<String> us = Set.copyOf(context.parameters(OuterAdapter.U).keySet());
        List<NDArray> vs = context.parameters(OuterAdapter.V).values().stream()
                .map(Parameter::getArray)
                .toList();
        ParameterGroup group =
                ParameterGroup.withLr(U_GROUP, us::contains, context.learningRate(U_GROUP, context.learningRate()), 0);
        return new TrainingExtension() {
            @Override
            public List<ParameterGroup> parameterGroups() {
                return List.of(group);
            }

            @Override
            public NDArray extraLoss(NDManager stepManager) {
                if (c.decay() == 0) {
                    return null;
                }
                NDArray sum = null;
                for (NDArray v : vs) {
                    v.tempAttach(stepManager);
                    NDArray s = v.square().sum();
                    sum = sum == null ? s : sum.add(s);
                }
                return ArrayOps.scaled(sum, c.decay());
            }
        };
    }
}
