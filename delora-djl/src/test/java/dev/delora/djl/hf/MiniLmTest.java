package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The embedded all-MiniLM-L6-v2, imported from its ONNX initializers, against onnxruntime running the same graph
 * (parity/minilm_golden.py): token ids equal, mean-pooled normalised embeddings with cosine >= 0.9999.
 */
class MiniLmTest {

    @Test
    void sentenceEmbeddingsMatchOnnxRuntime() throws Exception {
        JsonObject g =
                JsonParser.parseString(Fixtures.text("minilm/golden.json")).getAsJsonObject();
        List<String> sentences = new ArrayList<>();
        g.getAsJsonArray("sentences").forEach(e -> sentences.add(e.getAsString()));
        try (NDManager manager = NDManager.newBaseManager();
                EmbeddedModels.Embedded m = EmbeddedModels.miniLm(manager, null, 128)) {
            // only the pooler is new: the checkpoint is a bare BertModel without one
            assertEquals(
                    List.of("pooler.dense.weight", "pooler.dense.bias"),
                    m.report().missingKeys());
            assertTrue(
                    m.report().unexpectedKeys().isEmpty(),
                    m.report().unexpectedKeys().toString());
            assertEquals(6 * 16 + 5 + 2, BlockTree.parameters(m.block()).size());

            HfTokenizer.Batch batch = m.tokenizer().encode(sentences);
            JsonArray ids = g.getAsJsonArray("input_ids");
            for (int i = 0; i < sentences.size(); i++) {
                JsonArray row = ids.get(i).getAsJsonArray();
                long[] expected = new long[row.size()];
                for (int j = 0; j < expected.length; j++) {
                    expected[j] = row.get(j).getAsLong();
                }
                long[] actual = java.util.Arrays.copyOf(batch.inputIds()[i], expected.length);
                assertArrayEquals(expected, actual, "ids of '" + sentences.get(i) + "'");
                assertEquals(
                        expected.length,
                        java.util.Arrays.stream(batch.attentionMask()[i]).sum());
            }
            NDList in = batch.toNDList(manager);
            NDArray hidden = m.block()
                    .forward(new ParameterStore(manager, false), in, false)
                    .head();
            NDArray mask = in.get(1)
                    .toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                    .expandDims(2);
            NDArray pooled = hidden.mul(mask).sum(new int[] {1}).div(mask.sum(new int[] {1}));
            NDArray emb = pooled.normalize(2, 1);
            JsonArray gold = g.getAsJsonArray("embeddings");
            for (int i = 0; i < sentences.size(); i++) {
                JsonArray row = gold.get(i).getAsJsonArray();
                float[] ref = new float[row.size()];
                for (int j = 0; j < ref.length; j++) {
                    ref[j] = row.get(j).getAsFloat();
                }
                float[] got = emb.get(i).toFloatArray();
                double dot = 0;
                double nr = 0;
                double ng = 0;
                for (int j = 0; j < ref.length; j++) {
                    dot += ref[j] * got[j];
                    nr += ref[j] * ref[j];
                    ng += got[j] * got[j];
                }
                double cos = dot / Math.sqrt(nr * ng);
                assertTrue(cos >= 0.9999, "cosine " + cos + " for '" + sentences.get(i) + "'");
            }
        }
    }

    @Test
    void classificationVariantGetsANewHeadAndReportsIt() throws Exception {
        try (NDManager manager = NDManager.newBaseManager();
                EmbeddedModels.Embedded m = EmbeddedModels.miniLm(manager, 3, 64)) {
            assertEquals(
                    List.of(
                            "bert.pooler.dense.weight",
                            "bert.pooler.dense.bias",
                            "classifier.weight",
                            "classifier.bias"),
                    m.report().missingKeys());
            assertTrue(m.report().messages().get(0).contains("newly initialized"));
            assertEquals(List.of("bert.pooler.dense", "classifier"), m.report().newModules());
            assertEquals(List.of("classifier", "bert.pooler.dense"), m.report().modulesToSave(List.of("classifier")));
            HfSequenceClassifier c = (HfSequenceClassifier) m.block();
            NDArray logits = c.forward(
                            new ParameterStore(manager, false),
                            m.tokenizer()
                                    .encode(List.of("a test", "another one here"))
                                    .toNDList(manager),
                            false)
                    .head();
            assertArrayEquals(new long[] {2, 3}, logits.getShape().getShape());
            // transformers' init: normal(0, 0.02) weights, zero bias
            NDArray w = BlockTree.parameters(c).get("classifier.weight").getArray();
            float std = w.sub(w.mean()).pow(2).mean().sqrt().getFloat();
            assertEquals(0.02, std, 0.006);
            assertEquals(
                    0f,
                    BlockTree.parameters(c)
                            .get("classifier.bias")
                            .getArray()
                            .abs()
                            .sum()
                            .getFloat());
        }
    }
}
