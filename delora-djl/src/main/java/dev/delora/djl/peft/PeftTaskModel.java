package dev.delora.djl.peft;

import java.util.List;

/**
 * A model that plays one of PEFT's task models, so adapters saved from it carry PEFT's {@code task_type} and the
 * modules PEFT saves for that task whatever the config says (for {@code SEQ_CLS}, the classification head:
 * {@code PeftModelForSequenceClassification} adds {@code classifier}/{@code score} to {@code modules_to_save}). Model
 * families implement it on their root block (e.g. {@code HfSequenceClassifier}); the adapter machinery needs no
 * change for a new family.
 */
public interface PeftTaskModel {

    /**
     * Returns PEFT's task type, e.g. {@code SEQ_CLS} or {@code CAUSAL_LM}.
     *
     * @return the task type
     */
    String peftTaskType();

    /**
     * Returns the dotted paths of the modules PEFT trains and saves in full for this task (the head).
     *
     * @return module paths, possibly empty
     */
    List<String> headModules();
}
