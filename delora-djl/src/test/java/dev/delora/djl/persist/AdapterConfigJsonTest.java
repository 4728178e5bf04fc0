package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.core.AdapterConfig;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import org.junit.jupiter.api.Test;

/** adapter_config.json is read as strict JSON, with errors that name the file and the field. */
class AdapterConfigJsonTest {

    private static final String LORA = "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, "
            + "\"target_modules\": [\"query\"], \"lora_dropout\": 0.2, \"task_type\": %s}";

    private static String reject(String text) {
        return assertThrows(IllegalArgumentException.class, () -> AdapterConfigJson.parse(text, "a/cfg.json"))
                .getMessage();
    }

    @Test
    void readsPeftsEncoding() {
        AdapterConfig c = AdapterConfigJson.parse(String.format(LORA, "\"SEQ_CLS\""), "a/cfg.json");
        LoraConfig l = (LoraConfig) c;
        assertEquals(4, l.r());
        assertEquals(0.2f, l.loraDropout());
        String written = AdapterConfigJson.format(AdapterConfigJson.toJson(c, new PeftAdapters.Metadata(null, null)));
        assertTrue(written.contains("\"lora_dropout\": 0.2,"), written);
        assertEquals(c, AdapterConfigJson.parse(written, "again"));
    }

    @Test
    void rejectsWhatPythonsJsonRejects() {
        String ok = String.format(LORA, "null");
        assertTrue(reject("// comment\n" + ok).startsWith("a/cfg.json is not valid JSON"));
        assertTrue(reject(ok.replace("\"r\"", "'r'")).startsWith("a/cfg.json is not valid JSON"));
        assertTrue(reject(ok + " {}").startsWith("a/cfg.json"));
        assertTrue(reject("[1, 2]").startsWith("a/cfg.json must hold a JSON object"));
    }

    @Test
    void wrongTypesAndMissingFieldsNameTheFileAndField() {
        String msg = reject(String.format(LORA, "null").replace("\"r\": 4", "\"r\": \"4\""));
        assertTrue(msg.startsWith("a/cfg.json: field 'r' must be an integer"), msg);
        msg = reject(String.format(LORA, "null").replace("\"peft_type\": \"LORA\"", "\"peft_type\": {}"));
        assertTrue(msg.startsWith("a/cfg.json: field 'peft_type' must be a string"), msg);
        msg = reject(String.format(LORA, "null").replace("\"target_modules\": [\"query\"], ", ""));
        assertTrue(msg.startsWith("a/cfg.json: target_modules is missing"), msg);
        msg = reject(String.format(LORA, "null").replace("\"LORA\"", "\"VERA\""));
        assertTrue(msg.startsWith("a/cfg.json: peft_type 'VERA' is not supported; supported: ["), msg);
        msg = reject(String.format(LORA, "null").replace("\"r\": 4", "\"r\": 4, \"use_qalora\": true"));
        assertTrue(msg.contains("QALoRA adapters are not supported"), msg);
        // use_dora picks the DoRA method for the same peft_type
        assertInstanceOf(
                DoraConfig.class,
                AdapterConfigJson.fromJson(
                        AdapterConfigJson.parseObject(
                                String.format(LORA, "null").replace("\"r\": 4", "\"r\": 4, \"use_dora\": true"),
                                "a/cfg.json"),
                        "a/cfg.json"));
    }
}
