package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link DecoderExport}: a merged LoRA export reloads with the merged model's logits and the fixture's tensor names
 * and shapes; an export without adapters reproduces the fixture's tensors bit for bit; adapted blocks are refused; a
 * failed export leaves an existing folder as it was.
 */
class DecoderExportTest {

    @TempDir
    Path tmp;

    /** LoRA on every projection with random A and B, so the merge changes every targeted weight. */
    static AdaptedModel randomLora(CausalLm lm, NDManager m) {
        AdapterConfig lora = LoraConfig.builder()
                .r(4)
                .loraAlpha(8)
                .targetModules("q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj")
                .build();
        AdaptedModel peft = AdaptedModel.inject(lm, lora);
        for (AdaptedLinear module : peft.adaptedModules().values()) {
            LinearAdapter a = module.adapters().get(peft.activeAdapter());
            for (Parameter p : a.parameters().values()) {
                NDArray v = p.getArray();
                v.set(new NDIndex(":"), m.randomNormal(0f, 0.3f, v.getShape(), v.getDataType()));
            }
        }
        return peft;
    }

    static NDList inputs(NDManager m) {
        NDArray ids = m.create(new int[] {0, 0, 1, 17, 42, 5, 1, 60, 9, 33, 71, 2}, new Shape(2, 6));
        NDArray mask = m.create(new int[] {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, new Shape(2, 6));
        return new NDList(ids, mask);
    }

    static NDArray logits(CausalLm lm, NDManager m) {
        return lm.forward(new ParameterStore(m, false), inputs(m), false).head();
    }

    private static Map<String, Shape> shapes(Path file) throws Exception {
        Map<String, Shape> out = new TreeMap<>();
        try (Safetensors.Reader r = Safetensors.open(file)) {
            r.tensors().forEach((k, v) -> out.put(k, v.shape()));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied", "tiny-qwen2"})
    void mergedLoraExportReloadsWithTheMergedLogits(String name) throws Exception {
        Engine.getInstance().setRandomSeed(7);
        Path fixture = Fixtures.dir("decoders/" + name);
        Path out = tmp.resolve(name);
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderModels.Loaded loaded = DecoderModels.causalLm(fixture, m);
            NDArray before = logits(loaded.block(), m);
            AdaptedModel peft = randomLora(loaded.block(), m);
            CausalLm merged = (CausalLm) peft.mergeAndUnload();
            NDArray expected = logits(merged, m);
            assertTrue(expected.sub(before).abs().max().getFloat() > 1e-2f, "the adapter changes the logits");
            DecoderExport.save(merged, loaded.config(), loaded.generation(), null, out);

            DecoderModels.Loaded reloaded = DecoderModels.causalLm(out, m);
            float d = expected.sub(logits(reloaded.block(), m)).abs().max().getFloat();
            System.out.printf("%s merged export: max |logit diff| after reload %.3g%n", name, d);
            assertTrue(d <= 1e-5f, name + ": max |diff| " + d);
            assertEquals(shapes(fixture.resolve("model.safetensors")), shapes(out.resolve("model.safetensors")));
            assertEquals(loaded.config(), reloaded.config());
            assertEquals(loaded.generation().bosTokenId(), reloaded.generation().bosTokenId());
            assertEquals(
                    loaded.generation().eosTokenIds(), reloaded.generation().eosTokenIds());
            assertEquals(loaded.generation().padTokenId(), reloaded.generation().padTokenId());
            assertTrue(Files.isRegularFile(out.resolve(GenerationConfig.FILE)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied", "tiny-qwen2"})
    void plainExportReproducesTheFixtureBitForBit(String name) throws Exception {
        Path fixture = Fixtures.dir("decoders/" + name);
        Path out = tmp.resolve(name);
        Path tokenizer = Files.createDirectories(tmp.resolve("tok"));
        Files.writeString(tokenizer.resolve("tokenizer.json"), "{\"model\": {}}");
        Files.writeString(tokenizer.resolve("special_tokens_map.json"), "{}");
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderModels.Loaded loaded = DecoderModels.causalLm(fixture, m);
            DecoderExport.save(loaded.block(), loaded.config(), null, tokenizer, out);
        }
        try (Safetensors.Reader want = Safetensors.open(fixture.resolve("model.safetensors"));
                Safetensors.Reader got = Safetensors.open(out.resolve("model.safetensors"))) {
            assertEquals(want.tensors().keySet(), got.tensors().keySet());
            for (String k : want.tensors().keySet()) {
                assertEquals(want.info(k).dtype(), got.info(k).dtype(), k);
                assertEquals(want.info(k).shape(), got.info(k).shape(), k);
                assertTrue(want.readRaw(k).equals(got.readRaw(k)), k + " differs");
            }
            assertEquals(Map.of("format", "pt"), got.metadata());
        }
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(
                    List.of("config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals("{\"model\": {}}", Files.readString(out.resolve("tokenizer.json")));
        assertEquals(DecoderConfig.load(fixture), DecoderConfig.load(out));
    }

    @Test
    void refusesAnAdaptedBlockNamingAModule() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderModels.Loaded loaded = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m);
            randomLora(loaded.block(), m);
            Path out = tmp.resolve("adapted");
            String msg = assertThrows(
                            IllegalArgumentException.class,
                            () -> DecoderExport.save(loaded.block(), loaded.config(), null, null, out))
                    .getMessage();
            assertTrue(msg.contains("model.layers.0.self_attn.q_proj") && msg.contains("mergeAndUnload"), msg);
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void refusesToReplaceAFolderThatIsNoModel() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("notes"));
        Files.writeString(out.resolve("notes.txt"), "keep me");
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderModels.Loaded loaded = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m);
            String msg = assertThrows(
                            IllegalArgumentException.class,
                            () -> DecoderExport.save(loaded.block(), loaded.config(), null, null, out))
                    .getMessage();
            assertTrue(msg.contains("no config.json"), msg);
        }
        assertEquals("keep me", Files.readString(out.resolve("notes.txt")));
    }

    @Test
    void aFailureMidWriteLeavesTheExistingFolderIntact() throws Exception {
        Path out = tmp.resolve("export");
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderModels.Loaded first = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m);
            DecoderExport.save(first.block(), first.config(), first.generation(), null, out);
            Map<String, byte[]> before = contents(out);

            DecoderModels.Loaded second = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m);
            CausalLm merged = (CausalLm) randomLora(second.block(), m).mergeAndUnload();
            // the last tensor written (keys are sorted) fails while model.safetensors is being streamed
            Parameter last = BlockTree.parameters(merged).get("model.norm.weight");
            last.getArray().close();
            assertThrows(
                    RuntimeException.class,
                    () -> DecoderExport.save(merged, second.config(), second.generation(), null, out));

            Map<String, byte[]> after = contents(out);
            assertEquals(before.keySet(), after.keySet());
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k + " changed"));
            try (Stream<Path> siblings = Files.list(tmp)) {
                assertEquals(
                        List.of("export"),
                        siblings.map(p -> p.getFileName().toString()).toList(),
                        "the failed export left temp folders");
            }
            DecoderModels.causalLm(out, m); // still loads
        }
    }

    private static Map<String, byte[]> contents(Path dir) throws Exception {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                out.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return out;
    }
}
