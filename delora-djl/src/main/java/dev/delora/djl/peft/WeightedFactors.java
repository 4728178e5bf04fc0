package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.LoraFactors;
import dev.delora.djl.peft.WeightedAdapters.Combination;
import dev.delora.djl.peft.WeightedAdapters.MajoritySign;
import dev.delora.djl.peft.WeightedAdapters.Options;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** One module's combined factors for {@link WeightedAdapters}: PEFT's per-module loop of add_weighted_adapter. */
final class WeightedFactors {

    private WeightedFactors() {}

    /**
     * One module's combined {@code {A, B}} (float32).
     *
     * @param how the effective combination ({@code linear} for one adapter)
     * @param random DARE's Bernoulli source (null for the other combinations)
     */
    static NDArray[] combine(
            String module,
            List<LoraForm> forms,
            List<Double> weights,
            Combination how,
            Options options,
            int newRank,
            NDArray weight,
            Random random) {
        List<LoraFactors> present = new ArrayList<>();
        List<Double> w = new ArrayList<>();
        for (int i = 0; i < forms.size(); i++) {
            LoraFactors f = forms.get(i).factors().get(module);
            if (f != null) {
                present.add(f);
                w.add(weights.get(i));
            }
        }
        if (present.isEmpty()) {
            throw new IllegalArgumentException("Module '" + module + "' is targeted by the combined adapter but holds "
                    + "none of the adapters to combine (their exclude_modules / layers_to_transform differ)");
        }
        NDManager scratch = weight.getManager();
        Shape shape = weight.getShape();
        if (how == Combination.LINEAR) {
            return linear(module, present, w, newRank);
        } else if (how == Combination.CAT) {
            return cat(present, w, newRank, scratch);
        } else if (how == Combination.SVD) {
            return WeightedSvd.svd(module, present, w, newRank, options.svdClamp(), shape, scratch);
        } else if (how.isSvd()) {
            WeightedSvd.checkRank(module, newRank, shape);
            float[] merged = mergeDeltas(how, present, w, options, random);
            return WeightedSvd.ofMerged(merged, newRank, options.svdClamp(), shape, scratch);
        }
        return mergeFactors(module, how, present, w, options, newRank, random, scratch);
    }

    private static NDArray[] linear(String module, List<LoraFactors> present, List<Double> w, int newRank) {
        NDArray a = null;
        NDArray b = null;
        for (int i = 0; i < present.size(); i++) {
            LoraFactors f = present.get(i);
            checkRank(module, Combination.LINEAR, f, newRank);
            double ws = w.get(i) * f.scaling();
            // PEFT puts the sign on A only (√ of a negative weight would be NaN; on both it would cancel)
            float wa = (float) (Math.signum(ws) * Math.sqrt(Math.abs(ws)));
            float wb = (float) Math.sqrt(Math.abs(ws));
            NDArray ta = f.a().mul(wa); // LoRA forms are float32
            NDArray tb = f.b().mul(wb);
            a = a == null ? ta : a.add(ta);
            b = b == null ? tb : b.add(tb);
        }
        return new NDArray[] {a, b};
    }

    private static void checkRank(String module, Combination how, LoraFactors f, int newRank) {
        if (f.rank() != newRank) {
            throw new IllegalArgumentException("combination_type " + how.peftName() + " needs rank " + newRank
                    + " in every module; module '" + module + "' has an adapter of rank " + f.rank()
                    + " (use cat or an svd form)");
        }
    }

    private static NDArray[] cat(List<LoraFactors> present, List<Double> w, int newRank, NDManager scratch) {
        List<NDArray> as = new ArrayList<>();
        List<NDArray> bs = new ArrayList<>();
        long rank = 0;
        for (int i = 0; i < present.size(); i++) {
            LoraFactors f = present.get(i);
            // PEFT: A · weight · scaling, two float32 products
            as.add(f.a().mul(w.get(i).floatValue()).mul(f.scaling()));
            bs.add(f.b().add(0f)); // a copy: the result must not alias the form's factors
            rank += f.rank();
        }
        long in = present.get(0).a().getShape().get(1);
        long out = present.get(0).b().getShape().get(0);
        if (rank < newRank) { // modules holding only some adapters: PEFT fills the first rows, the rest stay zero
            as.add(scratch.zeros(new Shape(newRank - rank, in), DataType.FLOAT32));
            bs.add(scratch.zeros(new Shape(out, newRank - rank), DataType.FLOAT32));
        }
        return new NDArray[] {NDArrays.concat(new NDList(as), 0), NDArrays.concat(new NDList(bs), 1)};
    }

    /**
     * ties / dare_linear / dare_ties / magnitude_prune (PEFT's {@code _generalized_task_arithmetic_weighted_adapter}):
     * the A factors and the B factors are merged separately, with weights {@code sign(w s)·√|w s|} on A and
     * {@code √|w s|} on B; all of A first, then all of B (the order of DARE's draws).
     */
    private static NDArray[] mergeFactors(
            String module,
            Combination how,
            List<LoraFactors> present,
            List<Double> w,
            Options options,
            int newRank,
            Random random,
            NDManager scratch) {
        float[] wa = new float[present.size()];
        float[] wb = new float[present.size()];
        List<float[]> as = new ArrayList<>();
        List<float[]> bs = new ArrayList<>();
        for (int i = 0; i < present.size(); i++) {
            LoraFactors f = present.get(i);
            checkRank(module, how, f, newRank);
            double ws = w.get(i) * f.scaling();
            double sign = ws >= 0 ? 1 : -1;
            wa[i] = (float) (Math.sqrt(Math.abs(ws)) * sign);
            wb[i] = (float) Math.sqrt(Math.abs(ws));
            as.add(f.a().toType(DataType.FLOAT32, false).toFloatArray());
            bs.add(f.b().toType(DataType.FLOAT32, false).toFloatArray());
        }
        double density = density(options);
        boolean frequency = options.majoritySignMethod() == MajoritySign.FREQUENCY;
        float[] a = TaskArithmetic.merge(how.merge(), as, wa, density, frequency, random);
        float[] b = TaskArithmetic.merge(how.merge(), bs, wb, density, frequency, random);
        return new NDArray[] {
            scratch.create(a, present.get(0).a().getShape()),
            scratch.create(b, present.get(0).b().getShape())
        };
    }

    /** The *_svd pruning forms: merge the adapters' dense updates {@code ΔW_i = s_i B_i A_i} with weights w_i. */
    private static float[] mergeDeltas(
            Combination how, List<LoraFactors> present, List<Double> w, Options options, Random random) {
        float[] weights = new float[present.size()];
        List<float[]> deltas = new ArrayList<>();
        for (int i = 0; i < present.size(); i++) {
            LoraFactors f = present.get(i);
            weights[i] = w.get(i).floatValue(); // PEFT: torch.tensor(weights), float32
            NDArray b64 = f.b().toType(DataType.FLOAT64, true);
            NDArray a64 = f.a().toType(DataType.FLOAT64, true);
            // PEFT's get_delta_weight is float32: round ΔW_i to it before pruning and merging
            deltas.add(b64.matMul(a64)
                    .mul(f.scaling())
                    .toType(DataType.FLOAT32, false)
                    .toFloatArray());
        }
        double density = density(options);
        boolean frequency = options.majoritySignMethod() == MajoritySign.FREQUENCY;
        return TaskArithmetic.merge(how.merge(), deltas, weights, density, frequency, random);
    }

    private static double density(Options options) {
        return options.density() == null ? 1.0 : options.density(); // checked: present for every pruning form
    }
}
