package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.core.Linear;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.array.GradMode;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.tree.TargetModules;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

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
 *       {@code B = U·diag(S)}, {@code A = Vh}, optionally clamped to the {@code svd_clamp} quantile of their entries;
 *   <li>{@code ties}, {@code dare_linear}, {@code dare_ties}, {@code magnitude_prune} (equal ranks needed): PEFT's
 *       {@code merge_utils} on the A factors and, separately, on the B factors, the task tensors {@code A_i} weighted
 *       by {@code sign(w_i s_i)·√|w_i s_i|} and {@code B_i} by {@code √|w_i s_i|}. Each task tensor is pruned to
 *       {@code density}: {@code magnitude_prune} and {@code ties} keep its {@code int(density·n)} entries of largest
 *       magnitude, {@code dare_*} keep each entry with probability {@code density} and divide it by {@code density};
 *       the {@code *ties} forms then elect a sign per entry (that of the sum of the pruned, unweighted tasks for
 *       {@code majority_sign_method} {@code "total"}, of the sum of their signs for {@code "frequency"}; + on a tie)
 *       and average the weighted entries of that sign, the others sum the weighted pruned tasks;
 *   <li>{@code ties_svd}, {@code dare_linear_svd}, {@code dare_ties_svd}, {@code magnitude_prune_svd}: the same merge
 *       of the dense updates {@code ΔW_i = s_i B_i A_i} (float32, as PEFT) with weights {@code w_i}, then the
 *       {@code svd} truncation of the result, which has full rank: exact when {@code min(out, in) ≤ r + 64}, else a
 *       randomized SVD with 64 extra columns and 4 power iterations (PEFT: a full LAPACK SVD).
 * </ul>
 *
 * A {@code density} ≥ 1 prunes nothing (so {@code dare_linear} at 1 is {@code linear} and {@code dare_ties} at 1 is
 * {@code ties}). DARE's masks cannot be torch's ({@code torch.bernoulli}): they come from {@code java.util.Random}
 * seeded by {@link Options#seed()}, drawn in a fixed order (modules in model order; per module the adapters' A
 * factors, then their B factors, or their ΔW for the svd forms; entries row-major), so a seed reproduces the adapter
 * on any engine. The new adapter's config is the first adapter's (its LoRA form's, for other methods) with {@code r} =
 * {@code lora_alpha} = the new rank, no rank/alpha patterns and the union of the adapters' {@code target_modules}
 * (names: the union of the lists; regexes: {@code (re1)|(re2)}); the adapter is added inactive. As in PEFT the
 * first adapter's {@code use_rslora} is kept, so with rsLoRA the new adapter's scaling is {@code r/√r = √r}, not 1
 * (PEFT computes the same). With one adapter the combination is always {@code linear}, as in PEFT. Differences from
 * PEFT: an existing {@code newName} is an error (PEFT silently does nothing); {@code modules_to_save} shared by
 * several adapters are allowed (delora4j trains them in place, so there is one head, not one copy per adapter to
 * choose between); a missing {@code density} for a pruning form, a {@code density} outside [0, 1] (PEFT treats more
 * than 1 as 1) and {@code density} 0 for DARE (PEFT divides by it: NaN) are errors.
 */
public final class WeightedAdapters {

    /** How the adapters are combined (PEFT's {@code combination_type}). */
    public enum Combination {
        /** Weighted sums of the A and of the B factors (PEFT's {@code "linear"}). */
        LINEAR(TaskArithmetic.Merge.LINEAR, false),
        /** Concatenated, weighted factors (PEFT's {@code "cat"}): the exact weighted sum of the updates. */
        CAT(null, false),
        /** Truncated SVD of the weighted sum of the updates (PEFT's {@code "svd"}, its default). */
        SVD(TaskArithmetic.Merge.LINEAR, true),
        /** TIES merge of the A and of the B factors: magnitude pruning, sign election, disjoint mean. */
        TIES(TaskArithmetic.Merge.TIES, false),
        /** TIES merge of the dense updates, then the truncated SVD. */
        TIES_SVD(TaskArithmetic.Merge.TIES, true),
        /** DARE (random pruning, rescaled by 1/density) then weighted sums of the A and of the B factors. */
        DARE_LINEAR(TaskArithmetic.Merge.DARE_LINEAR, false),
        /** DARE, sign election and disjoint mean of the A and of the B factors. */
        DARE_TIES(TaskArithmetic.Merge.DARE_TIES, false),
        /** DARE then the weighted sum of the dense updates, then the truncated SVD. */
        DARE_LINEAR_SVD(TaskArithmetic.Merge.DARE_LINEAR, true),
        /** DARE, sign election and disjoint mean of the dense updates, then the truncated SVD. */
        DARE_TIES_SVD(TaskArithmetic.Merge.DARE_TIES, true),
        /** Magnitude pruning then weighted sums of the A and of the B factors. */
        MAGNITUDE_PRUNE(TaskArithmetic.Merge.MAGNITUDE_PRUNE, false),
        /** Magnitude pruning then the weighted sum of the dense updates, then the truncated SVD. */
        MAGNITUDE_PRUNE_SVD(TaskArithmetic.Merge.MAGNITUDE_PRUNE, true);

        private final TaskArithmetic.Merge merge;
        private final boolean svd;

        Combination(TaskArithmetic.Merge merge, boolean svd) {
            this.merge = merge;
            this.svd = svd;
        }

        /**
         * Parses PEFT's name ({@code "linear"}, {@code "cat"}, {@code "svd"}, {@code "ties"}, {@code "ties_svd"},
         * {@code "dare_linear"}, {@code "dare_ties"}, {@code "dare_linear_svd"}, {@code "dare_ties_svd"},
         * {@code "magnitude_prune"}, {@code "magnitude_prune_svd"}).
         *
         * @param name the combination type
         * @return the combination
         * @throws IllegalArgumentException for other names
         */
        public static Combination parse(String name) {
            for (Combination c : values()) {
                if (c.peftName().equals(name)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("Unsupported combination_type '" + name + "'; expected one of "
                    + Arrays.stream(values()).map(Combination::peftName).toList());
        }

        /**
         * Returns PEFT's name of the combination.
         *
         * @return e.g. {@code "dare_ties_svd"}
         */
        public String peftName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The {@code svd} and {@code *_svd} forms, whose rank is {@code svd_rank}. */
        boolean isSvd() {
            return svd;
        }

        /** The pruning forms, which need {@code density}. */
        boolean usesDensity() {
            return merge != null && merge != TaskArithmetic.Merge.LINEAR;
        }

        /** The DARE forms, which draw from {@link Options#seed()}. */
        boolean isRandom() {
            return merge != null && merge.random();
        }

        TaskArithmetic.Merge merge() {
            return merge;
        }
    }

    /** How the ties forms elect each entry's sign (PEFT's {@code majority_sign_method}). */
    public enum MajoritySign {
        /** The sign of the sum of the pruned task values (PEFT's default). */
        TOTAL,
        /** The sign of the sum of their signs: the more frequent sign. */
        FREQUENCY;

        /**
         * Parses PEFT's name.
         *
         * @param name {@code "total"} or {@code "frequency"}
         * @return the method
         * @throws IllegalArgumentException for other names
         */
        public static MajoritySign parse(String name) {
            for (MajoritySign m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException(
                    "Unsupported majority_sign_method '" + name + "'; expected \"total\" or \"frequency\"");
        }
    }

    /**
     * The arguments of {@code add_weighted_adapter} after the names and weights, in PEFT's names. Build it with
     * {@link #of(Combination)} and the {@code with…} methods; the arguments a combination does not use are ignored,
     * as in PEFT. ({@code svd_full_matrices} and {@code svd_driver} have no counterpart: the SVD is truncated.)
     *
     * @param combinationType how to combine
     * @param svdRank the SVD forms' rank ({@code null}: the largest of the adapters' ranks)
     * @param svdClamp the quantile in [0, 1] to clamp the SVD factors to ({@code null}: no clamping)
     * @param density the fraction in [0, 1] of each task tensor's entries to keep; required by the ties, dare and
     *     magnitude_prune forms (dare: in (0, 1])
     * @param majoritySignMethod the sign election of the ties forms
     * @param seed the seed of DARE's Bernoulli masks ({@code null}: a fresh, unseeded {@code java.util.Random})
     */
    public record Options(
            Combination combinationType,
            Integer svdRank,
            Double svdClamp,
            Double density,
            MajoritySign majoritySignMethod,
            Long seed) {

        /** Validates each argument on its own (combination-dependent checks happen in {@code add}). */
        public Options {
            if (combinationType == null || majoritySignMethod == null) {
                throw new IllegalArgumentException("combination_type and majority_sign_method must not be null");
            }
            if (svdRank != null && svdRank < 1) {
                throw new IllegalArgumentException("svd_rank must be >= 1, got " + svdRank);
            }
            if (svdClamp != null && !(svdClamp >= 0 && svdClamp <= 1)) {
                throw new IllegalArgumentException("svd_clamp is a quantile in [0, 1], got " + svdClamp);
            }
            if (density != null && !(density >= 0 && density <= 1)) {
                throw new IllegalArgumentException(
                        "density is the fraction of values to keep, in [0, 1]; got " + density);
            }
        }

        /**
         * PEFT's defaults for one combination: no {@code svd_rank}, {@code svd_clamp}, {@code density} or seed,
         * {@code majority_sign_method="total"}.
         *
         * @param combinationType how to combine
         * @return the options
         */
        public static Options of(Combination combinationType) {
            return new Options(combinationType, null, null, null, MajoritySign.TOTAL, null);
        }

        /**
         * Returns a copy with another {@code svd_rank}.
         *
         * @param rank the SVD rank, or null for the largest of the adapters' ranks
         * @return the options
         */
        public Options withSvdRank(Integer rank) {
            return new Options(combinationType, rank, svdClamp, density, majoritySignMethod, seed);
        }

        /**
         * Returns a copy with another {@code svd_clamp}.
         *
         * @param quantile the quantile in [0, 1], or null for none
         * @return the options
         */
        public Options withSvdClamp(Double quantile) {
            return new Options(combinationType, svdRank, quantile, density, majoritySignMethod, seed);
        }

        /**
         * Returns a copy with another {@code density}.
         *
         * @param fraction the fraction of entries to keep, in [0, 1]
         * @return the options
         */
        public Options withDensity(Double fraction) {
            return new Options(combinationType, svdRank, svdClamp, fraction, majoritySignMethod, seed);
        }

        /**
         * Returns a copy with another {@code majority_sign_method}.
         *
         * @param method total or frequency
         * @return the options
         */
        public Options withMajoritySignMethod(MajoritySign method) {
            return new Options(combinationType, svdRank, svdClamp, density, method, seed);
        }

        /**
         * Returns a copy with another seed for DARE's masks.
         *
         * @param newSeed the seed, or null for an unseeded generator
         * @return the options
         */
        public Options withSeed(Long newSeed) {
            return new Options(combinationType, svdRank, svdClamp, density, majoritySignMethod, newSeed);
        }
    }

    private WeightedAdapters() {}

    /**
     * Adds a combination of adapters with PEFT's defaults for the other arguments ({@code svd_rank} = the largest
     * rank, no clamp, no density: so not for the pruning forms, which need {@link #add(AdaptedModel, List, List,
     * String, Options)}).
     *
     * @param model the model
     * @param adapters names of the adapters to combine
     * @param weights one weight per adapter (may be negative)
     * @param newName the new adapter's name
     * @param combinationType {@code "linear"}, {@code "cat"} or {@code "svd"} ({@link Combination#parse})
     * @throws IllegalArgumentException as {@link #add(AdaptedModel, List, List, String, Options)}
     */
    public static void add(
            AdaptedModel model, List<String> adapters, List<Double> weights, String newName, String combinationType) {
        add(model, adapters, weights, newName, Options.of(Combination.parse(combinationType)));
    }

    /**
     * Adds a combination of adapters with an SVD rank and clamp and no density.
     *
     * @param model the model
     * @param adapters names of the adapters to combine (at least one)
     * @param weights one finite weight per adapter
     * @param newName the new adapter's name
     * @param combination how to combine
     * @param svdRank the SVD's rank ({@code null}: the largest of the adapters' ranks); only for the SVD forms
     * @param svdClamp the quantile in [0, 1] to clamp the SVD factors to ({@code null}: no clamping)
     * @throws IllegalArgumentException as {@link #add(AdaptedModel, List, List, String, Options)}
     */
    public static void add(
            AdaptedModel model,
            List<String> adapters,
            List<Double> weights,
            String newName,
            Combination combination,
            Integer svdRank,
            Double svdClamp) {
        add(
                model,
                adapters,
                weights,
                newName,
                new Options(combination, svdRank, svdClamp, null, MajoritySign.TOTAL, null));
    }

    /**
     * Adds a new, inactive LoRA adapter combining existing ones (PEFT's {@code add_weighted_adapter}). Everything is
     * checked and computed before the model changes; it is unchanged on failure.
     *
     * @param model the model
     * @param adapters names of the adapters to combine (at least one)
     * @param weights one finite weight per adapter
     * @param newName the new adapter's name
     * @param options the combination type and its arguments
     * @throws IllegalArgumentException if an adapter does not exist or has no plain-LoRA form, the name is taken,
     *     {@code linear}, {@code ties}, {@code dare_*} or {@code magnitude_prune} get different ranks, a pruning form
     *     has no {@code density} (or DARE has density 0), the adapters mix regex and list {@code target_modules}, the
     *     SVD rank exceeds a module's {@code min(out, in)}, or a module targeted by the combination holds none of the
     *     adapters
     */
    public static void add(
            AdaptedModel model, List<String> adapters, List<Double> weights, String newName, Options options) {
        Map<String, AdapterConfig> configs = model.adapters();
        WeightedConfig.check(configs, adapters, weights, newName);
        Combination how = adapters.size() == 1 ? Combination.LINEAR : options.combinationType();
        WeightedConfig.checkDensity(how, options.density());
        Random random = !how.isRandom() ? null : options.seed() == null ? new Random() : new Random(options.seed());
        List<LoraForm> forms = new ArrayList<>();
        Map<String, LinearAdapter> created = new LinkedHashMap<>();
        try {
            for (String a : adapters) {
                forms.add(LoraForm.of(model, a));
            }
            int[] ranks = new int[adapters.size()];
            for (int i = 0; i < ranks.length; i++) {
                ranks[i] = WeightedConfig.rank(configs.get(adapters.get(i)), forms.get(i));
            }
            int newRank;
            if (how == Combination.CAT) {
                newRank = Arrays.stream(ranks).sum();
            } else if (how.isSvd()) {
                Integer svdRank = options.svdRank();
                newRank = svdRank != null ? svdRank : Arrays.stream(ranks).max().orElseThrow();
            } else if (Arrays.stream(ranks).distinct().count() != 1) {
                throw new IllegalArgumentException("All adapters must have the same r value when using "
                        + "combination_type " + how.peftName() + "; ranks of " + adapters + ": "
                        + Arrays.toString(ranks) + " (use cat or an svd form)");
            } else {
                newRank = ranks[0];
            }
            LoraConfig config = WeightedConfig.newConfig(
                    configs.get(adapters.get(0)),
                    forms.get(0),
                    WeightedConfig.unionTargets(configs, adapters),
                    newRank);
            Map<String, Linear> targets = TargetModules.select(model.block(), config.targets());
            try (GradMode noGraphs = GradMode.off()) {
                for (Map.Entry<String, Linear> e : targets.entrySet()) {
                    NDArray w = e.getValue().getDirectParameters().get("weight").getArray();
                    NDArray[] pair;
                    try (NDScope scope = new NDScope()) { // frees every temporary of the combination
                        pair = WeightedFactors.combine(e.getKey(), forms, weights, how, options, newRank, w, random);
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
}
