package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.array.GradMode;
import dev.delora.core.linalg.RandomizedSvd;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.core.target.ModuleMatcher;
import dev.delora.core.target.TargetSpec;
import dev.delora.djl.tree.TargetModules;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * PEFT's {@code add_weighted_adapter} for LoRA-family adapters: a new LoRA adapter that combines existing ones with
 * weights, computed as PEFT 0.21.2 computes it ({@code LoraModel.add_weighted_adapter}). Adapters of other methods
 * take part through their exact plain-LoRA form ({@link LoraForm}: DeLoRA, LoRA-XS, SoRA); DoRA has none and is
 * rejected. Per module, with {@code s_i} adapter i's scaling and {@code w_i} its weight:
 *
 * <ul>
 *   <li>{@code linear}: {@code A = Σ sign(w_i s_i)·√|w_i s_i|·A_i}, {@code B = Σ √|w_i s_i|·B_i} (equal ranks needed;
 *       not the sum of the updates, as PEFT warns);
 *   <li>{@code cat}: {@code A = [w_1 s_1 A_1; w_2 s_2 A_2; …]}, {@code B = [B_1, B_2, …]}, zero-padded to the sum of
 *       the adapters' ranks: exactly {@code Σ w_i ΔW_i};
 *   <li>{@code svd}: the rank-{@code svd_rank} truncated SVD {@code U S Vh} of {@code Σ w_i ΔW_i} (float64),
 *       {@code B = U·diag(S)}, {@code A = Vh}, optionally clamped to the {@code svd_clamp} quantile of their entries.
 * </ul>
 *
 * The new adapter's config is the first adapter's (its LoRA form's, for other methods) with {@code r} =
 * {@code lora_alpha} = the new rank, no rank/alpha patterns and the union of the adapters' {@code target_modules}
 * (names: the union of the lists; regexes: {@code (re1)|(re2)}); the adapter is added inactive. As in PEFT the
 * first adapter's {@code use_rslora} is kept, so with rsLoRA the new adapter's scaling is {@code r/√r = √r}, not 1
 * (PEFT computes the same). With one adapter the
 * combination is always {@code linear}, as in PEFT. Differences from PEFT: an existing {@code newName} is an error
 * (PEFT silently does nothing), and {@code modules_to_save} shared by several adapters are allowed (delora4j trains
 * them in place, so there is one head, not one copy per adapter to choose between).
 */
public final class WeightedAdapters {

    /** How the adapters are combined (PEFT's {@code combination_type}). */
    public enum Combination {
        /** Weighted sums of the A and of the B factors (PEFT's {@code "linear"}). */
        LINEAR,
        /** Concatenated, weighted factors (PEFT's {@code "cat"}): the exact weighted sum of the updates. */
        CAT,
        /** Truncated SVD of the weighted sum of the updates (PEFT's {@code "svd"}, its default). */
        SVD;

        /**
         * Parses PEFT's name ({@code "linear"}, {@code "cat"}, {@code "svd"}).
         *
         * @param name the combination type
         * @return the combination
         * @throws IllegalArgumentException for other names (PEFT's ties/dare/magnitude_prune variants are not
         *     implemented)
         */
        public static Combination parse(String name) {
            for (Combination c : values()) {
                if (c.name().toLowerCase(Locale.ROOT).equals(name)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("Unsupported combination_type '" + name + "'; supported: linear, cat, "
                    + "svd (PEFT's ties, dare_* and magnitude_prune variants are not implemented)");
        }
    }

    private WeightedAdapters() {}

    /**
     * Adds a combination of adapters with PEFT's defaults for the SVD ({@code svd_rank} = the largest rank, no clamp).
     *
     * @param model the model
     * @param adapters names of the adapters to combine
     * @param weights one weight per adapter (may be negative)
     * @param newName the new adapter's name
     * @param combinationType {@code "linear"}, {@code "cat"} or {@code "svd"}
     * @throws IllegalArgumentException as {@link #add(AdaptedModel, List, List, String, Combination, Integer, Double)}
     */
    public static void add(
            AdaptedModel model, List<String> adapters, List<Double> weights, String newName, String combinationType) {
        add(model, adapters, weights, newName, Combination.parse(combinationType), null, null);
    }

    /**
     * Adds a new, inactive LoRA adapter combining existing ones (PEFT's {@code add_weighted_adapter}). The model is
     * unchanged on failure.
     *
     * @param model the model
     * @param adapters names of the adapters to combine (at least one)
     * @param weights one finite weight per adapter
     * @param newName the new adapter's name
     * @param combination how to combine
     * @param svdRank the SVD's rank ({@code null}: the largest of the adapters' ranks); only for {@code SVD}
     * @param svdClamp the quantile in [0, 1] to clamp the SVD factors to ({@code null}: no clamping)
     * @throws IllegalArgumentException if an adapter does not exist or has no plain-LoRA form, the name is taken,
     *     {@code linear} gets different ranks, the adapters mix regex and list {@code target_modules}, or a module
     *     targeted by the combination holds none of the adapters
     */
    public static void add(
            AdaptedModel model,
            List<String> adapters,
            List<Double> weights,
            String newName,
            Combination combination,
            Integer svdRank,
            Double svdClamp) {
        Map<String, AdapterConfig> configs = model.adapters();
        check(configs, adapters, weights, newName, svdRank, svdClamp);
        Combination how = adapters.size() == 1 ? Combination.LINEAR : combination;
        List<LoraForm> forms = new ArrayList<>();
        Map<String, LinearAdapter> created = new LinkedHashMap<>();
        try {
            for (String a : adapters) {
                forms.add(LoraForm.of(model, a));
            }
            int[] ranks = new int[adapters.size()];
            for (int i = 0; i < ranks.length; i++) {
                ranks[i] = configRank(configs.get(adapters.get(i)), forms.get(i));
            }
            int newRank = switch (how) {
                case LINEAR -> {
                    if (Arrays.stream(ranks).distinct().count() != 1) {
                        throw new IllegalArgumentException("All adapters must have the same r value when "
                                + "using combination_type linear; ranks of " + adapters + ": "
                                + Arrays.toString(ranks) + " (use cat or svd)");
                    }
                    yield ranks[0];
                }
                case CAT -> Arrays.stream(ranks).sum();
                case SVD ->
                    svdRank != null ? svdRank : Arrays.stream(ranks).max().orElseThrow();
            };
            LoraConfig config =
                    newConfig(configs.get(adapters.get(0)), forms.get(0), unionTargets(configs, adapters), newRank);
            Map<String, Linear> targets = TargetModules.select(model.block(), config.targets());
            try (GradMode noGraphs = GradMode.off()) {
                for (Map.Entry<String, Linear> e : targets.entrySet()) {
                    NDArray w = e.getValue().getDirectParameters().get("weight").getArray();
                    NDArray[] pair;
                    try (NDScope scope = new NDScope()) { // frees every temporary of the combination
                        pair = combine(e.getKey(), forms, weights, how, newRank, svdClamp, w);
                        NDScope.unregister(pair);
                    }
                    try (LoraFactors f = new LoraFactors(pair[0], pair[1], config.scalingFor(e.getKey()))) {
                        created.put(e.getKey(), LoraAdapter.fromFactors(f, config.loraDropout(), w.getManager()));
                    }
                }
            }
            Map<String, LinearAdapter> handed = created;
            created = Map.of(); // owned by the model from here on; it closes them itself if it refuses them
            model.addAdapter(newName, config, handed);
        } finally {
            forms.forEach(LoraForm::close);
            created.values().forEach(LinearAdapter::close);
        }
    }

    private static void check(
            Map<String, AdapterConfig> configs,
            List<String> adapters,
            List<Double> weights,
            String newName,
            Integer svdRank,
            Double svdClamp) {
        if (adapters.isEmpty() || adapters.size() != weights.size()) {
            throw new IllegalArgumentException("add_weighted_adapter needs one weight per adapter and at least one "
                    + "adapter; got adapters " + adapters + " and weights " + weights);
        }
        for (String a : adapters) {
            if (!configs.containsKey(a)) {
                throw new IllegalArgumentException("Adapter " + a + " does not exist; adapters: " + configs.keySet());
            }
        }
        if (new LinkedHashSet<>(adapters).size() != adapters.size()) {
            throw new IllegalArgumentException("Adapters to combine must be distinct, got " + adapters);
        }
        for (Double w : weights) {
            if (w == null || !Double.isFinite(w)) {
                throw new IllegalArgumentException("Weights must be finite numbers, got " + weights);
            }
        }
        AdapterNames.checkNew(newName, configs.keySet());
        if (svdRank != null && svdRank < 1) {
            throw new IllegalArgumentException("svd_rank must be >= 1, got " + svdRank);
        }
        if (svdClamp != null && !(svdClamp >= 0 && svdClamp <= 1)) {
            throw new IllegalArgumentException("svd_clamp is a quantile in [0, 1], got " + svdClamp);
        }
    }

    /** PEFT's rank of an adapter: {@code max(r, *rank_pattern.values())}; other methods: their LoRA form's. */
    private static int configRank(AdapterConfig config, LoraForm form) {
        if (config instanceof LoraConfig lc) {
            return Math.max(
                    lc.r(),
                    lc.rankPattern().values().stream()
                            .mapToInt(Integer::intValue)
                            .max()
                            .orElse(0));
        }
        return form.config().r();
    }

    private static ModuleMatcher unionTargets(Map<String, AdapterConfig> configs, List<String> adapters) {
        List<ModuleMatcher> matchers = adapters.stream()
                .map(a -> configs.get(a).targets().targetModules())
                .toList();
        long regexes = matchers.stream().filter(m -> m.regex() != null).count();
        if (regexes != 0 && regexes != matchers.size()) {
            throw new IllegalArgumentException("all adapter configs should follow the same target modules type. "
                    + "Combining adapters with `target_modules` type being a mix of list/set and string is not "
                    + "supported; " + adapters + " target " + matchers);
        }
        if (regexes != 0) {
            return ModuleMatcher.regex(String.join(
                    "|", matchers.stream().map(m -> "(" + m.regex() + ")").toList()));
        }
        Set<String> names = new LinkedHashSet<>();
        matchers.forEach(m -> names.addAll(m.names()));
        return ModuleMatcher.names(List.copyOf(names));
    }

    /** The first adapter's config with the new rank as r and α, no patterns, the union of the targets. */
    private static LoraConfig newConfig(AdapterConfig first, LoraForm form, ModuleMatcher targets, int rank) {
        TargetSpec t = first.targets();
        TargetSpec spec = new TargetSpec(
                targets, t.excludeModules(), t.layersToTransform(), t.layersPattern(), t.modulesToSave());
        LoraConfig base = first instanceof LoraConfig lc ? lc : form.config();
        boolean rslora = base.useRslora();
        LoraInit init = base.initLoraWeights();
        return new LoraConfig(rank, rank, base.loraDropout(), rslora, init, spec, Map.of(), Map.of());
    }

    /** One module's combined {@code {A, B}} (float32). */
    private static NDArray[] combine(
            String module,
            List<LoraForm> forms,
            List<Double> weights,
            Combination how,
            int newRank,
            Double clamp,
            NDArray weight) {
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
        return switch (how) {
            case LINEAR -> linear(module, present, w, newRank);
            case CAT -> cat(present, w, newRank, weight.getManager());
            case SVD -> WeightedSvd.svd(module, present, w, newRank, clamp, weight.getShape(), weight.getManager());
        };
    }

    private static NDArray[] linear(String module, List<LoraFactors> present, List<Double> w, int newRank) {
        NDArray a = null;
        NDArray b = null;
        for (int i = 0; i < present.size(); i++) {
            LoraFactors f = present.get(i);
            if (f.rank() != newRank) {
                throw new IllegalArgumentException("combination_type linear needs rank " + newRank + " in every module;"
                        + " module '" + module + "' has an adapter of rank " + f.rank() + " (use cat or svd)");
            }
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

    /** The SVD combination, kept apart for its numerics. */
    static final class WeightedSvd {

        private WeightedSvd() {}

        static NDArray[] svd(
                String module,
                List<LoraFactors> present,
                List<Double> w,
                int newRank,
                Double clamp,
                Shape weightShape,
                NDManager scratch) {
            long out = weightShape.get(0);
            long in = weightShape.get(1);
            if (newRank > Math.min(out, in)) {
                throw new IllegalArgumentException("svd rank " + newRank + " exceeds min(out, in) = "
                        + Math.min(out, in) + " of module '" + module + "'");
            }
            NDArray delta = scratch.zeros(new Shape(out, in), DataType.FLOAT64);
            for (int i = 0; i < present.size(); i++) {
                LoraFactors f = present.get(i);
                NDArray b64 = f.b().toType(DataType.FLOAT64, true);
                NDArray a64 = f.a().toType(DataType.FLOAT64, true);
                delta = delta.add(b64.matMul(a64).mul(w.get(i) * f.scaling()));
            }
            NDArray b;
            NDArray a;
            RandomizedSvd.Result r = truncated(delta, newRank, present);
            if (r == null) { // ΔW is zero
                b = scratch.zeros(new Shape(out, newRank), DataType.FLOAT64);
                a = scratch.zeros(new Shape(newRank, in), DataType.FLOAT64);
            } else {
                b = r.u().mul(r.s().reshape(1, -1));
                a = r.vt();
                long k = r.s().getShape().get(0);
                if (k < newRank) { // ΔW's rank is below the requested one: the missing singular values are zero
                    b = b.concat(scratch.zeros(new Shape(out, newRank - k), DataType.FLOAT64), 1);
                    a = a.concat(scratch.zeros(new Shape(newRank - k, in), DataType.FLOAT64), 0);
                }
            }
            if (clamp != null) {
                double hi = quantile(b, a, clamp);
                b = b.clip(-hi, hi);
                a = a.clip(-hi, hi);
            }
            return new NDArray[] {a.toType(DataType.FLOAT32, true), b.toType(DataType.FLOAT32, true)};
        }

        /** The truncated SVD at the requested rank, or at ΔW's numerical rank when that is lower; null for zero. */
        private static RandomizedSvd.Result truncated(NDArray delta, int rank, List<LoraFactors> present) {
            long sum = present.stream().mapToLong(LoraFactors::rank).sum();
            // the sketch spans every column of ΔW (its rank is at most the sum of the ranks): the SVD is exact
            int oversamples = (int) Math.max(0, sum - rank) + 4;
            for (int k = (int) Math.min(rank, sum); k >= 1; k--) {
                try {
                    return RandomizedSvd.decompose(
                            delta, new RandomizedSvd.Options(k, oversamples, 2, 20_240_601L, true));
                } catch (IllegalArgumentException e) {
                    String msg = String.valueOf(e.getMessage());
                    if (!msg.contains("numerical rank") && !msg.contains("is zero")) {
                        throw e;
                    }
                }
            }
            return null;
        }

        /** torch.quantile (linear interpolation) of the entries of U·diag(S) and Vh together. */
        private static double quantile(NDArray b, NDArray a, double q) {
            double[] x = new double[(int) (b.size() + a.size())];
            double[] bv = b.toDoubleArray();
            System.arraycopy(bv, 0, x, 0, bv.length);
            System.arraycopy(a.toDoubleArray(), 0, x, bv.length, (int) a.size());
            Arrays.sort(x);
            double pos = q * (x.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, x.length - 1);
            return x[lo] + (x[hi] - x[lo]) * (pos - lo);
        }
    }
}
