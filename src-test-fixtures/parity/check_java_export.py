"""Check a folder written by the Java side against PEFT / transformers.

    python check_java_export.py EXPORT_DIR --base BASE_DIR [--logits FILE] [--golden FILE] [--tol 1e-4]

EXPORT_DIR is either
  * a PEFT adapter folder (adapter_config.json + adapter_model.safetensors), loaded onto BASE_DIR with
    PeftModel.from_pretrained, or
  * a merged Hugging Face folder (config.json + model.safetensors), loaded with
    AutoModelForSequenceClassification.from_pretrained; its tensor names/shapes must equal BASE_DIR's (for a bare
    base such as a BertModel folder: its tensors under the base-model prefix, plus the head and a pooler the base
    lacks).

Causal LMs (CAUSAL_LM): a merged folder whose config.json `architectures` end in `ForCausalLM` loads with
AutoModelForCausalLM (eager attention), an adapter folder with `"task_type": "CAUSAL_LM"` loads onto an
AutoModelForCausalLM BASE_DIR with PeftModel. Their java_logits.safetensors holds `logits` [N, T, vocab] and must hold
`input_ids` and `attention_mask` [N, T]; logits are compared at the positions where attention_mask is 1 (a padded
position's logits are not defined by the model).

The logits the Java side computed live in java_logits.safetensors (default: EXPORT_DIR/java_logits.safetensors,
else a java_logits.safetensors next to EXPORT_DIR): key `logits` [N, num_labels] float32, optionally `input_ids`
and `attention_mask` [N, T] (int32 or int64), and `token_type_ids` [N, T] for models that have them (BERT sentence
pairs: without them the second segment would be read as segment 0). Without input_ids the inputs of the fixture
golden.safetensors are used.

Prints max |logit difference|. Exit status: 0 when <= tol, 1 when above tol, 2 when the folder itself is wrong
(missing/unexpected/misshapen tensors, unloadable config, missing files).

An adapter file must hold exactly the tensors PEFT saves for its adapter_config (computed from a fresh
get_peft_model on BASE_DIR before anything is loaded). For DoRA (LoRA with "use_dora": true) that includes one
`<module>.lora_magnitude_vector` [out_features] per targeted module: the in-memory parameter
`lora_magnitude_vector.default.weight` with the adapter name and the `.weight` suffix stripped.
"""
import copy
import argparse
import json
import os
import sys

# Everything is local; never let transformers/peft try the Hub (e.g. to resolve base_model_name_or_path).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GOLDEN = os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures", "peft",
                              "golden.safetensors")


def fail(msg, code=2):
    print(f"FAIL: {msg}")
    sys.exit(code)


def shapes(path):
    with safe_open(path, "pt") as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}


def is_causal_config(config_path):
    try:
        with open(config_path) as f:
            archs = json.load(f).get("architectures") or []
    except (OSError, ValueError) as e:
        fail(f"{config_path}: unreadable: {e!r}")
    return any(str(a).endswith("ForCausalLM") for a in archs)


def base_model_prefix(export_dir):
    """transformers' base_model_prefix of the export's model type (bert, roberta, model), or None."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    try:
        return MODEL_MAPPING[type(AutoConfig.from_pretrained(export_dir))].base_model_prefix
    except (KeyError, OSError, ValueError):
        return None


def load_merged(export_dir, base_dir, auto_class=AutoModelForSequenceClassification):
    st = os.path.join(export_dir, "model.safetensors")
    if not os.path.exists(os.path.join(export_dir, "config.json")) or not os.path.exists(st):
        fail(f"{export_dir}: expected adapter_config.json (adapter) or config.json + model.safetensors (merged)")
    if base_dir:
        want, got = shapes(os.path.join(base_dir, "model.safetensors")), shapes(st)
        prefix = base_model_prefix(export_dir)
        if prefix and not any(k.startswith(prefix + ".") for k in want):
            # a bare base (BertModel) under a task model (BertForSequenceClassification): compare the base part;
            # the task model's head (and a pooler the bare checkpoint lacks) are the export's own
            got = {k[len(prefix) + 1:]: v for k, v in got.items() if k.startswith(prefix + ".")}
            got = {k: v for k, v in got.items() if k in want or not k.startswith("pooler.")}
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        bad = sorted(k for k in set(want) & set(got) if want[k] != got[k])
        if missing or extra or bad:
            fail(f"{st}: tensors differ from base; missing {missing}, unexpected {extra}, "
                 f"shape mismatch {[(k, want[k], got[k]) for k in bad]}")
    model, info = auto_class.from_pretrained(
        export_dir, attn_implementation="eager", output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        fail(f"{export_dir}: transformers loading problems {problems}")
    return model


def expected_adapter_tensors(config, base_dir, auto_class=AutoModelForSequenceClassification):
    """Names/shapes PEFT's save_pretrained writes for this config on this base (DoRA magnitudes included)."""
    from peft import get_peft_model, get_peft_model_state_dict

    base = auto_class.from_pretrained(base_dir, attn_implementation="eager")
    fresh = get_peft_model(base, copy.deepcopy(config))
    return {k: tuple(v.shape) for k, v in get_peft_model_state_dict(fresh, save_embedding_layers=False).items()}


def load_adapter(export_dir, base_dir):
    from peft import PeftConfig, PeftModel

    if not base_dir:
        fail("an adapter folder needs --base BASE_DIR")
    st = os.path.join(export_dir, "adapter_model.safetensors")
    if not os.path.exists(st):
        fail(f"{st} is missing")
    try:
        config = PeftConfig.from_pretrained(export_dir)
    except Exception as e:  # e.g. KeyError for a peft_type PEFT does not know
        fail(f"{export_dir}/adapter_config.json: PEFT cannot read it: {e!r}")
    task = str(config.task_type).removeprefix("TaskType.")
    if task not in ("SEQ_CLS", "CAUSAL_LM"):
        fail(f"{export_dir}: task_type {config.task_type!r}; this checker handles SEQ_CLS and CAUSAL_LM adapters")
    auto_class = AutoModelForCausalLM if task == "CAUSAL_LM" else AutoModelForSequenceClassification
    # PEFT only warns on missing keys (leaving fresh init in place) and raises on a shape mismatch; be strict and
    # check first: the file must hold exactly the tensors PEFT itself would save for this config, with their shapes.
    want, got = expected_adapter_tensors(config, base_dir, auto_class), shapes(st)
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    bad = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    if missing or extra or bad:
        hint = ""
        if any(k.endswith("lora_magnitude_vector.weight") for k in extra):
            hint = " (DoRA: PEFT saves `<module>.lora_magnitude_vector`, without `.weight`)"
        fail(f"{st}: tensors differ from what PEFT saves for this adapter_config; missing {missing}, "
             f"unexpected {extra}, shape mismatch {[(k, want[k], got[k]) for k in bad]}{hint}")
    base = auto_class.from_pretrained(base_dir, attn_implementation="eager")
    try:
        return PeftModel.from_pretrained(base, export_dir), task == "CAUSAL_LM"
    except Exception as e:
        fail(f"{export_dir}: PeftModel.from_pretrained failed: {e!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export_dir")
    ap.add_argument("--base", help="base model folder (config.json + model.safetensors)")
    ap.add_argument("--logits", help="java_logits.safetensors (default: in or next to EXPORT_DIR)")
    ap.add_argument("--golden", default=DEFAULT_GOLDEN, help="inputs used when the logits file has no input_ids")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()

    export_dir = os.path.normpath(args.export_dir)
    logits_path = args.logits
    if logits_path is None:
        for cand in (os.path.join(export_dir, "java_logits.safetensors"),
                     os.path.join(os.path.dirname(export_dir), "java_logits.safetensors")):
            if os.path.exists(cand):
                logits_path = cand
                break
        else:
            fail(f"no java_logits.safetensors in or next to {export_dir}")
    java = load_file(logits_path)
    if "logits" not in java:
        fail(f"{logits_path}: no 'logits' tensor (keys {sorted(java)})")
    is_adapter = os.path.exists(os.path.join(export_dir, "adapter_config.json"))
    if is_adapter:
        model, causal = load_adapter(export_dir, args.base)
    else:
        causal = is_causal_config(os.path.join(export_dir, "config.json"))
        model = load_merged(export_dir, args.base,
                            AutoModelForCausalLM if causal else AutoModelForSequenceClassification)
    if causal and "input_ids" not in java:
        fail(f"{logits_path}: a causal LM's logits file must hold input_ids (and attention_mask)")
    src = java if "input_ids" in java else load_file(args.golden)
    ids = src["input_ids"].to(torch.long)
    mask = src["attention_mask"].to(torch.long) if "attention_mask" in src else torch.ones_like(ids)
    inputs = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in src:
        inputs["token_type_ids"] = src["token_type_ids"].to(torch.long)

    model.eval()
    with torch.no_grad():
        ref = model(**inputs).logits.float()
    got = java["logits"].float()
    if tuple(got.shape) != tuple(ref.shape):
        fail(f"{logits_path}: logits shape {tuple(got.shape)}, expected {tuple(ref.shape)}")
    if causal:  # [N, T, V]: only the positions the mask keeps
        keep = mask.bool()
        got, ref = got[keep], ref[keep]
    diff = (got - ref).abs().max().item()
    kind = "adapter" if is_adapter else "merged"
    print(json.dumps({"export": export_dir, "kind": kind, "task": "CAUSAL_LM" if causal else "SEQ_CLS",
                      "logits_file": logits_path, "max_abs_diff": diff, "tol": args.tol}))
    if not diff <= args.tol:  # also catches NaN
        print(f"FAIL: max |logit difference| {diff:.3g} > {args.tol:g}")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
