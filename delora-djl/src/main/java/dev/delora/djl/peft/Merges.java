package dev.delora.djl.peft;

import dev.delora.core.array.GradMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Merging adapters into the base weights of many modules, all or nothing. */
final class Merges {

    private Merges() {}

    /** Merges the named adapters into every module that has them; on a refusal, undoes what was merged. */
    static void merge(Collection<AdaptedLinear> modules, List<String> names) {
        for (String n : names) {
            for (AdaptedLinear m : modules) {
                if (m.mergedAdapters().contains(n)) {
                    throw new IllegalStateException("Adapter '" + n + "' is already merged; unmerge() first");
                }
            }
        }
        // a module that refuses (a non-finite update) must not leave the ones before it merged
        List<Runnable> undo = new ArrayList<>();
        try (GradMode noGraphs = GradMode.off()) {
            for (String n : names) {
                for (AdaptedLinear m : modules) {
                    if (m.adapters().containsKey(n)) {
                        m.merge(n);
                        undo.add(() -> m.unmerge(n));
                    }
                }
            }
        } catch (RuntimeException e) {
            Collections.reverse(undo);
            undo.forEach(Runnable::run);
            throw e;
        }
    }

    /**
     * Unmerges the named adapters from every module that has them merged, last merged first.
     *
     * @throws IllegalStateException if a name is merged in no module; nothing is unmerged then
     */
    static void unmerge(Collection<AdaptedLinear> modules, List<String> names) {
        Set<String> merged = new LinkedHashSet<>();
        modules.forEach(m -> merged.addAll(m.mergedAdapters()));
        for (String n : names) {
            if (!merged.contains(n)) {
                throw new IllegalStateException("Adapter '" + n + "' is not merged; merged adapters: " + merged);
            }
        }
        try (GradMode noGraphs = GradMode.off()) {
            for (AdaptedLinear m : modules) {
                List<String> order = new ArrayList<>(m.mergedAdapters());
                Collections.reverse(order);
                order.stream().filter(names::contains).forEach(m::unmerge);
            }
        }
    }

    /** Unmerges every merged adapter of every module, last merged first. */
    static void unmergeAll(Collection<AdaptedLinear> modules) {
        for (AdaptedLinear m : modules) {
            List<String> merged = new ArrayList<>(m.mergedAdapters());
            Collections.reverse(merged);
            merged.forEach(m::unmerge);
        }
    }
}
