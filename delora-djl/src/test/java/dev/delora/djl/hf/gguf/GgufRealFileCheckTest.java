package dev.delora.djl.hf.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Development check on a real GGUF file against the folder the Python reference converter wrote from it; runs only
 * with {@code -Dgguf.real=FILE.gguf -Dgguf.real.ref=REFERENCE_FOLDER [-Dgguf.real.out=OUT_FOLDER]}:
 *
 * <pre>
 * mvn -B -ntp -q -pl delora-djl test -Dtest=GgufRealFileCheckTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dgguf.real=/work/smol/smol/SmolLM2-135M-Instruct.Q4_1.gguf -Dgguf.real.ref=/work/smol/smollm2-hf \
 *     -Dgguf.real.out=/tmp/smol-java-hf
 * </pre>
 *
 * <p>Prints every tensor's max |difference| (expected 0), compares config.json, tokenizer.json and
 * tokenizer_config.json (chat template included) as JSON, and the tokenizer ids of a few strings on both folders.
 */
@EnabledIfSystemProperty(named = "gguf.real", matches = ".+")
class GgufRealFileCheckTest {

    private static final List<String> STRINGS = List.of(
            "I have 12345 apples, don't I?",
            "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
            "  Spaces,\ttabs\nand ünïcödé — 3.14159 😀",
            "def f(x):\n    return x ** 2  # 2024");

    private static JsonObject json(Path f) throws Exception {
        return JsonParser.parseString(Files.readString(f)).getAsJsonObject();
    }

    @Test
    void convertedFolderEqualsThePythonReference() throws Exception {
        Path gguf = Paths.get(System.getProperty("gguf.real"));
        Path ref = Paths.get(System.getProperty("gguf.real.ref"));
        Path out = Paths.get(System.getProperty("gguf.real.out", "/tmp/gguf-java-hf"));
        long t0 = System.nanoTime();
        GgufConversion.toHfFolder(gguf, out);
        System.out.printf("converted %s in %.1f s%n", gguf.getFileName(), (System.nanoTime() - t0) / 1e9);
        double worst = 0;
        int differing = 0;
        try (Safetensors.Reader got = Safetensors.open(out.resolve("model.safetensors"));
                Safetensors.Reader want = Safetensors.open(ref.resolve("model.safetensors"))) {
            assertEquals(want.tensors().keySet(), got.tensors().keySet(), "tensor names");
            for (String name : want.tensors().keySet()) {
                assertEquals(
                        want.tensors().get(name).shape(),
                        got.tensors().get(name).shape(),
                        name);
                float[] a = GgufReaderTest.floats(want, name);
                float[] b = GgufReaderTest.floats(got, name);
                double d = 0;
                for (int i = 0; i < a.length; i++) {
                    d = Math.max(d, Math.abs((double) a[i] - b[i]));
                }
                if (d != 0) {
                    differing++;
                    System.out.printf("  %s: max |diff| %.3g%n", name, d);
                }
                worst = Math.max(worst, d);
            }
            System.out.printf(
                    "%d tensors, %d differ, max |diff| over all %.3g%n",
                    want.tensors().size(), differing, worst);
        }
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
            JsonObject a = json(ref.resolve(f));
            JsonObject b = json(out.resolve(f));
            for (String k : a.keySet()) {
                if (!a.get(k).equals(b.get(k))) {
                    System.out.println("  " + f + " field " + k + " differs");
                }
            }
            System.out.println(f + (a.equals(b) ? ": equal as JSON" : ": DIFFERS") + " (" + a.size() + " fields)");
            assertEquals(a, b, f);
        }
        String template =
                json(out.resolve("tokenizer_config.json")).get("chat_template").getAsString();
        System.out.println("chat_template equal, " + template.length() + " chars");
        try (HuggingFaceTokenizer a = HuggingFaceTokenizer.newInstance(
                        ref.resolve("tokenizer.json"), Map.of("addSpecialTokens", "false"));
                HuggingFaceTokenizer b = HuggingFaceTokenizer.newInstance(
                        out.resolve("tokenizer.json"), Map.of("addSpecialTokens", "false"))) {
            for (String s : STRINGS) {
                long[] ids = b.encode(s).getIds();
                System.out.println("  " + s.replace("\n", "\\n") + " -> " + Arrays.toString(ids));
                assertArrayEquals(a.encode(s).getIds(), ids, s);
            }
            assertArrayEquals(
                    new long[] {57, 457, 216, 33, 34, 35, 36, 37, 13855, 28, 1326, 982, 339, 47},
                    b.encode(STRINGS.get(0)).getIds());
        }
        assertEquals(0.0, worst, "max |diff| over all tensors");
    }
}
