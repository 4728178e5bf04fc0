package dev.delora.djl.io;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model needed to import weights: the graph's nodes (name, op type, inputs, outputs) and its
 * initializers. Parsed straight from the protobuf wire format with {@link CodedInputStream}, so no generated ONNX
 * binding or ONNX runtime is needed. Field numbers follow {@code onnx.proto}: ModelProto.graph = 7; GraphProto
 * node = 1, initializer = 5; NodeProto input = 1, output = 2, name = 3, op_type = 4; TensorProto dims = 1,
 * data_type = 2, float_data = 4, int32_data = 5, int64_data = 7, name = 8, raw_data = 9, double_data = 10,
 * data_location = 14.
 *
 * @param nodes the graph's nodes in file order
 * @param initializers the initializers by name, in file order
 */
public record OnnxGraph(List<Node> nodes, Map<String, Tensor> initializers) {

    /** ONNX TensorProto.DataType FLOAT. */
    public static final int FLOAT = 1;
    /** ONNX TensorProto.DataType INT32. */
    public static final int INT32 = 6;
    /** ONNX TensorProto.DataType INT64. */
    public static final int INT64 = 7;
    /** ONNX TensorProto.DataType FLOAT16. */
    public static final int FLOAT16 = 10;
    /** ONNX TensorProto.DataType DOUBLE. */
    public static final int DOUBLE = 11;
    /** ONNX TensorProto.DataType BFLOAT16. */
    public static final int BFLOAT16 = 16;

    /**
     * A graph node.
     *
     * @param name the node name, e.g. {@code /encoder/layer.0/attention/self/query/MatMul}
     * @param opType the operator, e.g. {@code MatMul}
     * @param inputs input value names
     * @param outputs output value names
     */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs) {}

    /**
     * An initializer.
     *
     * @param name its value name
     * @param dataType the ONNX data type code
     * @param dims the shape
     * @param data little-endian element bytes
     */
    public record Tensor(String name, int dataType, long[] dims, ByteBuffer data) {
        /**
         * Returns the elements as floats (FLOAT, FLOAT16, BFLOAT16 and DOUBLE are converted).
         *
         * @return row-major values
         */
        public float[] floats() {
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            switch (dataType) {
                case FLOAT: {
                    float[] out = new float[b.remaining() / 4];
                    b.asFloatBuffer().get(out);
                    return out;
                }
                case DOUBLE: {
                    float[] out = new float[b.remaining() / 8];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = (float) b.getDouble();
                    }
                    return out;
                }
                case FLOAT16:
                case BFLOAT16: {
                    ByteBuffer f = SafetensorsDtype.toF32(
                            b, dataType == FLOAT16 ? SafetensorsDtype.F16 : SafetensorsDtype.BF16);
                    float[] out = new float[f.remaining() / 4];
                    f.asFloatBuffer().get(out);
                    return out;
                }
                default:
                    throw new IllegalStateException("ONNX initializer '" + name + "' has data type " + dataType
                            + ", not a floating-point type");
            }
        }

        /**
         * Returns the number of elements.
         *
         * @return product of the dims
         */
        public long size() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    /**
     * Parses an ONNX model.
     *
     * @param in the {@code .onnx} bytes (read to the end; not closed)
     * @param source a name for error messages
     * @return the graph
     * @throws IOException if the stream is not a readable ONNX model
     */
    public static OnnxGraph read(InputStream in, String source) throws IOException {
        CodedInputStream cis = CodedInputStream.newInstance(in);
        cis.setSizeLimit(Integer.MAX_VALUE);
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> inits = new LinkedHashMap<>();
        boolean sawGraph = false;
        try {
            while (true) {
                int tag = cis.readTag();
                if (tag == 0) {
                    break;
                }
                if (WireFormat.getTagFieldNumber(tag) == 7 && wire(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    sawGraph = true;
                    int limit = cis.pushLimit(cis.readRawVarint32());
                    readGraph(cis, nodes, inits, source);
                    cis.popLimit(limit);
                } else {
                    cis.skipField(tag);
                }
            }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IOException(source + ": not a valid ONNX model (" + e.getMessage() + ")", e);
        }
        if (!sawGraph) {
            throw new IOException(source + ": no graph (ModelProto field 7) found; is this an ONNX model?");
        }
        return new OnnxGraph(Collections.unmodifiableList(nodes), Collections.unmodifiableMap(inits));
    }

    private static int wire(int tag) {
        return WireFormat.getTagWireType(tag);
    }

    private static void readGraph(CodedInputStream cis, List<Node> nodes, Map<String, Tensor> inits, String source)
            throws IOException {
        while (true) {
            int tag = cis.readTag();
            if (tag == 0) {
                return;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            if ((field == 1 || field == 5) && wire(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = cis.pushLimit(cis.readRawVarint32());
                if (field == 1) {
                    nodes.add(readNode(cis));
                } else {
                    Tensor t = readTensor(cis, source);
                    inits.put(t.name(), t);
                }
                cis.popLimit(limit);
            } else {
                cis.skipField(tag);
            }
        }
    }

    private static Node readNode(CodedInputStream cis) throws IOException {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String name = "";
        String op = "";
        while (true) {
            int tag = cis.readTag();
            if (tag == 0) {
                break;
            }
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> inputs.add(cis.readStringRequireUtf8());
                case 2 -> outputs.add(cis.readStringRequireUtf8());
                case 3 -> name = cis.readStringRequireUtf8();
                case 4 -> op = cis.readStringRequireUtf8();
                default -> cis.skipField(tag);
            }
        }
        return new Node(name, op, List.copyOf(inputs), List.copyOf(outputs));
    }

    private static Tensor readTensor(CodedInputStream cis, String source) throws IOException {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        ByteString raw = null;
        ByteBuffer typed = null;
        java.io.ByteArrayOutputStream typedBytes = new java.io.ByteArrayOutputStream();
        boolean external = false;
        while (true) {
            int tag = cis.readTag();
            if (tag == 0) {
                break;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            boolean packed = wire(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
            switch (field) {
                case 1 -> readVarints(cis, packed, dims);
                case 2 -> dataType = cis.readInt32();
                case 8 -> name = cis.readStringRequireUtf8();
                case 9 -> raw = cis.readBytes();
                case 14 -> external = cis.readInt32() == 1;
                case 4 -> { // float_data: 4-byte little-endian, packed or not
                    if (packed) {
                        typedBytes.write(cis.readBytes().toByteArray());
                    } else {
                        typedBytes.write(le(ByteBuffer.allocate(4)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .putFloat(cis.readFloat())));
                    }
                }
                case 10 -> { // double_data
                    if (packed) {
                        typedBytes.write(cis.readBytes().toByteArray());
                    } else {
                        typedBytes.write(le(ByteBuffer.allocate(8)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .putDouble(cis.readDouble())));
                    }
                }
                case 5, 7 -> { // int32_data / int64_data: varints
                    List<Long> vals = new ArrayList<>();
                    readVarints(cis, packed, vals);
                    for (long v : vals) {
                        if (field == 5 && (dataType == FLOAT16 || dataType == BFLOAT16)) {
                            typedBytes.write(le(ByteBuffer.allocate(2)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .putShort((short) v)));
                        } else if (field == 5) {
                            typedBytes.write(le(ByteBuffer.allocate(4)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .putInt((int) v)));
                        } else {
                            typedBytes.write(le(ByteBuffer.allocate(8)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .putLong(v)));
                        }
                    }
                }
                default -> cis.skipField(tag);
            }
        }
        if (external) {
            throw new IOException(
                    source + ": initializer '" + name + "' keeps its data in an external file, which is not supported");
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        if (raw != null && !raw.isEmpty()) {
            typed = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        } else {
            typed = ByteBuffer.wrap(typedBytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        }
        return new Tensor(name, dataType, d, typed);
    }

    private static byte[] le(ByteBuffer b) {
        return b.array();
    }

    private static void readVarints(CodedInputStream cis, boolean packed, List<Long> out) throws IOException {
        if (packed) {
            int limit = cis.pushLimit(cis.readRawVarint32());
            while (cis.getBytesUntilLimit() > 0) {
                out.add(cis.readInt64());
            }
            cis.popLimit(limit);
        } else {
            out.add(cis.readInt64());
        }
    }
}
