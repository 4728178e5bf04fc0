package dev.delora.djl.hf.decoder;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The special tokens generation needs, from {@code generation_config.json} when the folder has one, else from
 * {@code config.json} (as transformers' {@code GenerationConfig.from_model_config}).
 *
 * @param bosTokenId {@code bos_token_id}, or {@code null}
 * @param eosTokenIds {@code eos_token_id} (an integer or a list in the file), possibly empty
 * @param padTokenId {@code pad_token_id}, or {@code null}
 * @param source the file the values came from, or {@code null} when none was read
 */
public record GenerationConfig(Integer bosTokenId, List<Integer> eosTokenIds, Integer padTokenId, String source) {

    /** The file transformers writes next to a model's config. */
    public static final String FILE = "generation_config.json";

    /** Copies the list. */
    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /**
     * Returns a configuration without special tokens.
     *
     * @return no bos, no eos, no pad
     */
    public static GenerationConfig none() {
        return new GenerationConfig(null, List.of(), null, null);
    }

    /**
     * Reads the special tokens of a model folder: {@value #FILE} when present, else {@code config.json}'s.
     *
     * @param folder the model folder
     * @return the configuration ({@link #none()} when neither file exists)
     * @throws IOException if a file is not valid JSON
     * @throws IllegalArgumentException if a token id is not an integer (the message names file and field)
     */
    public static GenerationConfig load(Path folder) throws IOException {
        Path f = folder.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            f = folder.resolve("config.json");
        }
        if (!Files.isRegularFile(f)) {
            return none();
        }
        JsonObject o = JsonFields.read(f);
        JsonFields fields = new JsonFields(o, f.toString(), "");
        return new GenerationConfig(
                fields.has("bos_token_id") ? fields.integer("bos_token_id", null) : null,
                fields.integers("eos_token_id"),
                fields.has("pad_token_id") ? fields.integer("pad_token_id", null) : null,
                f.toString());
    }

    /**
     * Returns whether a token ends generation.
     *
     * @param token a token id
     * @return true when it is one of the eos ids
     */
    public boolean isEos(long token) {
        return eosTokenIds.stream().anyMatch(e -> e == token);
    }
}
