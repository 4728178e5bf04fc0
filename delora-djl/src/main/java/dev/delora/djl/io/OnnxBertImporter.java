package dev.delora.djl.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Imports the weights of a BERT-family encoder exported to ONNX by {@code torch.onnx.export} (e.g. the
 * all-MiniLM-L6-v2 graph) as Hugging Face state-dict keys.
 *
 * <p>Such exports keep embeddings, LayerNorms and biases under their PyTorch names, but every Linear weight is
 * constant-folded into an anonymous initializer ({@code onnx::MatMul_787}) holding the transpose, {@code [in, out]}.
 * The MatMul node that consumes it carries the module path ({@code /encoder/layer.0/attention/self/query/MatMul}),
 * so the weight becomes {@code encoder.layer.0.attention.self.query.weight}, transposed back to {@code [out, in]}.
 * Non-persistent buffers ({@code embeddings.position_ids}) are dropped.
 */
public final class OnnxBertImporter {

    private static final Pattern STATE_DICT_KEY = Pattern.compile("[A-Za-z_][\\w]*(\\.[\\w]+)+");
    private static final Pattern MATMUL_NODE = Pattern.compile("/((?:[\\w]+[./])*[\\w]+)/MatMul");

    private OnnxBertImporter() {}

    /**
     * Reads an ONNX model and maps its weights to state-dict keys.
     *
     * @param in the ONNX bytes
     * @param source a name for messages
     * @return the weights (in memory, float32)
     * @throws IOException if the model cannot be read or a weight cannot be named
     */
    public static TensorSource read(InputStream in, String source) throws IOException {
        return fromGraph(OnnxGraph.read(in, source), source);
    }

    /**
     * Maps the initializers of a parsed graph to state-dict keys.
     *
     * @param graph the graph
     * @param source a name for messages
     * @return the weights (in memory, float32)
     * @throws IOException if an anonymous initializer has no MatMul that names it
     */
    public static TensorSource fromGraph(OnnxGraph graph, String source) throws IOException {
        Map<String, OnnxGraph.Node> matmulByWeight = new HashMap<>();
        for (OnnxGraph.Node n : graph.nodes()) {
            if ("MatMul".equals(n.opType())
                    && n.inputs().size() == 2
                    && graph.initializers().containsKey(n.inputs().get(1))) {
                matmulByWeight.put(n.inputs().get(1), n);
            }
        }
        Map<String, Entry> out = new LinkedHashMap<>();
        for (OnnxGraph.Tensor t : graph.initializers().values()) {
            String name = t.name();
            if (name.endsWith("position_ids")) {
                continue; // a non-persistent buffer in transformers, not a weight
            }
            if (!isFloat(t.dataType())) {
                continue; // shape constants and other integer tensors are not weights
            }
            OnnxGraph.Node mm = matmulByWeight.get(name);
            if (mm != null && !STATE_DICT_KEY.matcher(name).matches()) {
                var m = MATMUL_NODE.matcher(mm.name());
                if (!m.matches()) {
                    throw new IOException(source + ": initializer '" + name + "' feeds MatMul node '" + mm.name()
                            + "', whose name does not give a module path (expected /<module>/<path>/MatMul)");
                }
                if (t.dims().length != 2) {
                    throw new IOException(source + ": MatMul weight '" + name + "' of node '" + mm.name()
                            + "' has shape " + java.util.Arrays.toString(t.dims()) + "; expected [in, out]");
                }
                String key = m.group(1).replace('/', '.') + ".weight";
                int rows = (int) t.dims()[0];
                int cols = (int) t.dims()[1];
                float[] v = t.floats();
                float[] tr = new float[v.length];
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        tr[j * rows + i] = v[i * cols + j];
                    }
                }
                put(out, key, new Entry(new Shape(cols, rows), tr), source, name);
            } else if (STATE_DICT_KEY.matcher(name).matches()) {
                put(out, name, new Entry(new Shape(t.dims()), t.floats()), source, name);
            } else {
                throw new IOException(source + ": floating-point initializer '" + name + "' "
                        + java.util.Arrays.toString(t.dims()) + " is neither a state-dict key nor a MatMul weight");
            }
        }
        return new MemorySource(source, out);
    }

    private static void put(Map<String, Entry> out, String key, Entry e, String source, String onnxName)
            throws IOException {
        if (out.putIfAbsent(key, e) != null) {
            throw new IOException(source + ": two initializers map to '" + key + "' (second: '" + onnxName + "')");
        }
    }

    private static boolean isFloat(int t) {
        return t == OnnxGraph.FLOAT || t == OnnxGraph.FLOAT16 || t == OnnxGraph.BFLOAT16 || t == OnnxGraph.DOUBLE;
    }

    private record Entry(Shape shape, float[] data) {}

    private static final class MemorySource implements TensorSource {
        private final String source;
        private final Map<String, Entry> entries;

        MemorySource(String source, Map<String, Entry> entries) {
            this.source = source;
            this.entries = entries;
        }

        @Override
        public Set<String> keys() {
            return Collections.unmodifiableSet(entries.keySet());
        }

        @Override
        public Shape shape(String key) {
            return entry(key).shape();
        }

        @Override
        public NDArray load(NDManager manager, String key) {
            Entry e = entry(key);
            NDArray a = manager.create(e.data(), e.shape());
            a.setName(key);
            return a;
        }

        private Entry entry(String key) {
            Entry e = entries.get(key);
            if (e == null) {
                throw new IllegalArgumentException(source + " has no weight '" + key + "'");
            }
            return e;
        }

        @Override
        public String describe() {
            return source;
        }

        @Override
        public void close() {}
    }
}
