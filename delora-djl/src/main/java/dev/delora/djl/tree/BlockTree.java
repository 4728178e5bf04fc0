package dev.delora.djl.tree;

import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.BlockList;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names and rewires the modules of a DJL block tree the way PyTorch's {@code named_modules()} does.
 *
 * <p>A module's path joins its child keys with dots, e.g. {@code roberta.encoder.layer.0.attention.self.query}. Keys
 * are used verbatim, except the ordinal prefix that {@code AbstractBlock.addChildBlock} adds ({@code 01Linear}) is
 * stripped when the remaining name is unique among its siblings, so DJL's own blocks get readable paths
 * ({@code selfAttention.queryProjection}) and a {@code SequentialBlock} of identical layers keeps {@code 01Linear},
 * {@code 02Linear}. Blocks built for Hugging Face checkpoints register children under their HF names directly, so
 * their paths equal transformers' module names.
 */
public final class BlockTree {

    private static final Pattern ORDINAL_KEY = Pattern.compile("^\\d{2,}(\\D.*)$");
    private static final Field CHILDREN;

    static {
        try {
            CHILDREN = AbstractBlock.class.getDeclaredField("children");
            CHILDREN.setAccessible(true);
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private BlockTree() {}

    /**
     * One module of the tree.
     *
     * @param path the dotted path ({@code ""} for the root)
     * @param block the module
     * @param parent the parent module, {@code null} for the root
     */
    public record Node(String path, Block block, Block parent) {}

    /**
     * Lists every module depth-first, parents before children, keyed by dotted path.
     *
     * @param root the root block
     * @return path to node, in tree order
     */
    public static LinkedHashMap<String, Node> nodes(Block root) {
        LinkedHashMap<String, Node> out = new LinkedHashMap<>();
        visit(root, null, "", out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    /**
     * Lists every module by dotted path (the root is {@code ""}).
     *
     * @param root the root block
     * @return path to block, in tree order
     */
    public static LinkedHashMap<String, Block> modules(Block root) {
        LinkedHashMap<String, Block> out = new LinkedHashMap<>();
        nodes(root).forEach((path, node) -> out.put(path, node.block()));
        return out;
    }

    /**
     * Lists every parameter keyed by {@code "<module path>.<parameter name>"}, like PyTorch's {@code state_dict()}
     * keys. A parameter shared by several modules is listed once, under its first path.
     *
     * @param root the root block
     * @return parameter key to parameter, in tree order
     */
    public static LinkedHashMap<String, Parameter> parameters(Block root) {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node node : nodes(root).values()) {
            for (Pair<String, Parameter> p : node.block().getDirectParameters()) {
                if (seen.add(p.getValue())) {
                    out.put(join(node.path(), p.getKey()), p.getValue());
                }
            }
        }
        return out;
    }

    /**
     * Joins a module path and a name with a dot, treating the root path {@code ""} correctly.
     *
     * @param path a module path
     * @param name a child or parameter name
     * @return the joined path
     */
    public static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /**
     * Replaces modules everywhere the tree refers to them: in each parent's child list and in every field (also
     * {@code List} elements and arrays) of every block in the tree. Built-in blocks such as
     * {@code ScaledDotProductAttentionBlock} call sub-blocks through private fields, so the child list alone is not
     * enough.
     *
     * <p>All references are checked before anything changes: if one cannot take its replacement (a field of an
     * incompatible type, an unmodifiable list), an exception is thrown and the tree is left as it was.
     *
     * @param root the root block
     * @param replacements old block to new block (by identity)
     * @throws IllegalStateException if a reference cannot be replaced
     */
    public static void replace(Block root, Map<Block, Block> replacements) {
        Map<Block, Block> byIdentity = new IdentityHashMap<>(replacements);
        List<Runnable> edits = new ArrayList<>();
        for (Node node : nodes(root).values()) {
            Block block = node.block();
            if (block instanceof AbstractBlock ab) {
                BlockList children = children(ab);
                List<Block> values = children.values();
                for (int i = 0; i < values.size(); i++) {
                    Block repl = byIdentity.get(values.get(i));
                    if (repl != null) {
                        int index = i;
                        edits.add(() -> values.set(index, repl));
                    }
                }
            }
            planFieldEdits(node, byIdentity, edits);
        }
        edits.forEach(Runnable::run);
    }

    private static void planFieldEdits(Node node, Map<Block, Block> byIdentity, List<Runnable> edits) {
        Object owner = node.block();
        for (Class<?> k = owner.getClass(); k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())
                        || f.getType().isPrimitive()
                        || f.getName().equals("children") && k == AbstractBlock.class) {
                    continue;
                }
                Object value = read(f, owner);
                if (value == null) {
                    continue;
                }
                Block repl = value instanceof Block b ? byIdentity.get(b) : null;
                if (repl != null) {
                    if (!f.getType().isInstance(repl)) {
                        throw new IllegalStateException("Cannot replace the module at '" + node.path() + "' field "
                                + k.getSimpleName() + "."
                                + f.getName() + ": the field is typed "
                                + f.getType().getName()
                                + " but the replacement is a " + repl.getClass().getName());
                    }
                    if (Modifier.isFinal(f.getModifiers())) {
                        throw new IllegalStateException("Cannot replace the module held in the final field "
                                + k.getSimpleName() + "." + f.getName() + " of '" + node.path() + "'");
                    }
                    edits.add(() -> write(f, owner, repl));
                } else if (value instanceof List<?> list) {
                    planListEdits(node, f, list, byIdentity, edits);
                } else if (value instanceof Object[] array) {
                    for (int i = 0; i < array.length; i++) {
                        Block r = array[i] instanceof Block b ? byIdentity.get(b) : null;
                        if (r != null) {
                            if (!array.getClass().getComponentType().isInstance(r)) {
                                throw new IllegalStateException(
                                        "Cannot store a " + r.getClass().getName() + " in the array field "
                                                + f.getName() + " of '" + node.path() + "'");
                            }
                            int index = i;
                            edits.add(() -> array[index] = r);
                        }
                    }
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void planListEdits(
            Node node, Field f, List<?> list, Map<Block, Block> byIdentity, List<Runnable> edits) {
        if (list instanceof BlockList) {
            return; // a BlockList other than children would be unusual; children are handled above
        }
        Map<Integer, Block> hits = new HashMap<>();
        for (int i = 0; i < list.size(); i++) {
            Object element = list.get(i);
            Block r = element instanceof Block b ? byIdentity.get(b) : null;
            if (r != null) {
                hits.put(i, r);
            }
        }
        if (hits.isEmpty()) {
            return;
        }
        List<Object> target = (List<Object>) list;
        try {
            // probe modifiability without changing anything: set an element to itself
            int first = hits.keySet().iterator().next();
            target.set(first, target.get(first));
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException(
                    "Cannot replace modules held in the unmodifiable list field " + f.getName() + " of '" + node.path()
                            + "'",
                    e);
        }
        hits.forEach((i, r) -> edits.add(() -> target.set(i, r)));
    }

    private static void visit(Block block, Block parent, String path, Map<String, Node> out, Set<Block> seen) {
        out.put(path, new Node(path, block, parent));
        if (!seen.add(block)) {
            return; // a shared sub-tree is listed once under each path but not walked twice
        }
        List<Pair<String, Block>> children = block.getChildren().stream().toList();
        List<String> names = childNames(children);
        for (int i = 0; i < children.size(); i++) {
            visit(children.get(i).getValue(), block, join(path, names.get(i)), out, seen);
        }
    }

    private static List<String> childNames(List<Pair<String, Block>> children) {
        List<String> stripped = new ArrayList<>(children.size());
        Map<String, Integer> counts = new HashMap<>();
        for (Pair<String, Block> child : children) {
            Matcher m = ORDINAL_KEY.matcher(child.getKey());
            String name = m.matches() ? m.group(1) : child.getKey();
            stripped.add(name);
            counts.merge(name, 1, Integer::sum);
        }
        List<String> names = new ArrayList<>(children.size());
        for (int i = 0; i < children.size(); i++) {
            names.add(
                    counts.get(stripped.get(i)) == 1
                            ? stripped.get(i)
                            : children.get(i).getKey());
        }
        return names;
    }

    static BlockList children(AbstractBlock block) {
        try {
            return (BlockList) CHILDREN.get(block);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object read(Field f, Object owner) {
        try {
            f.setAccessible(true);
            return f.get(owner);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // fields we cannot read (JDK internals) cannot hold our blocks either
        }
    }

    private static void write(Field f, Object owner, Object value) {
        try {
            f.set(owner, value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
