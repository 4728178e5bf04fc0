package dev.delora.examples.gsm8k;

import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * tiny-llama (vocab 96) plus a character-level ChatML tokenizer (0 pad, 1 unk, 2 im_end, 3 im_start, then chars) and
 * a {@code tokenizer_config.json} whose chat template is Qwen2's ChatML without a system turn.
 */
public final class TinyChatModel {

    /** The characters the tokenizer knows, one token each. */
    public static final String CHARS = "0123456789abcdefghijklmnopqrstuvwxyz +=?#\n";

    private TinyChatModel() {}

    /**
     * Writes the model folder (config.json, generation_config.json, model.safetensors, tokenizer.json,
     * tokenizer_config.json) once.
     *
     * @param dir the folder
     * @return the folder
     * @throws IOException if writing fails
     */
    public static Path folder(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Files.createDirectories(dir);
        Path src = Fixtures.dir("decoders/tiny-llama");
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors")) {
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        StringBuilder vocab = new StringBuilder("\"<pad>\":0,\"<unk>\":1,\"<|im_end|>\":2,\"<|im_start|>\":3");
        for (int i = 0; i < CHARS.length(); i++) {
            char c = CHARS.charAt(i);
            String esc = c == '\n' ? "\\n" : String.valueOf(c);
            vocab.append(",\"").append(esc).append("\":").append(4 + i);
        }
        List<String> added = new ArrayList<>();
        String[] specials = {"<pad>", "<unk>", "<|im_end|>", "<|im_start|>"};
        for (int i = 0; i < specials.length; i++) {
            added.add("{\"id\":" + i + ",\"content\":\"" + specials[i] + "\",\"single_word\":false,\"lstrip\":false,"
                    + "\"rstrip\":false,\"normalized\":false,\"special\":true}");
        }
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
                + String.join(",", added) + "],\"normalizer\":null,\"pre_tokenizer\":null,\"post_processor\":null,"
                + "\"decoder\":{\"type\":\"Fuse\"},"
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\","
                + "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":false,"
                + "\"byte_fallback\":false,\"vocab\":{" + vocab + "},\"merges\":[]}}";
        Files.writeString(dir.resolve("tokenizer.json"), json, StandardCharsets.UTF_8);
        String template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
                + " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                + "{% endif %}";
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"" + template + "\", \"eos_token\": \"<|im_end|>\"}",
                StandardCharsets.UTF_8);
        return dir;
    }
}
