"""PEFT-format golden adapters on a tiny random RoBERTa for sequence classification.

Writes into fixtures/peft/:

* base/            tiny random RobertaForSequenceClassification (save_pretrained, safetensors)
* lora/            PEFT LoRA adapter (r=4, alpha=8, query+value, SEQ_CLS), lora_B random, classifier perturbed
* delora/          PEFT DeLoRA adapter (r=4, lambda=15, query+value+intermediate.dense, SEQ_CLS), delora_B random,
                   per-module lambda perturbed around 15, classifier perturbed
* lora_merged/     merge_and_unload() of lora, save_pretrained (config.json + model.safetensors)
* delora_merged/   merge_and_unload() of delora, save_pretrained
* golden.safetensors  input_ids/attention_mask [2, 9] and the eval-mode logits of base, lora, delora and both merges
* README.md        the exact key names / shapes / dtypes in every adapter_model.safetensors and the adapter_config.json
                   contents (what the Java save/load must reproduce)

PEFT's model-card README.md inside the adapter folders is deleted (boilerplate, not part of the format). The script
also reloads each adapter folder with PeftModel.from_pretrained and each merged folder with from_pretrained and
asserts the logits reproduce, so the saved folders are known-loadable.
"""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # all inputs are local; never touch the Hub
import shutil
import sys

# PEFT keeps target_modules as a set and writes it to adapter_config.json in set-iteration order, which depends on
# string hash randomisation: pin the hash seed so reruns produce byte-identical fixtures.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import numpy as np
import torch
import peft
import transformers
from peft import DeloraConfig, LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModelForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures", "peft"))
PAD = 1
SEQ = 9
INIT_STD = 0.2
ATTN = "eager"  # the plain softmax(QK^T)V path; the Java encoder implements the same math

torch.manual_seed(20240601)
np.random.seed(20240601)


def base_config():
    return RobertaConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=37, max_position_embeddings=40, num_labels=3, pad_token_id=PAD,
                         bos_token_id=0, eos_token_id=2, type_vocab_size=1, hidden_dropout_prob=0.1,
                         attention_probs_dropout_prob=0.1, initializer_range=INIT_STD)


def make_base():
    """Random base model whose logits really depend on every part of the encoder.

    With HF's default init (std 0.02, zero biases, unit LayerNorms) a 32-wide model's logits are ~1e-2 and barely
    depend on attention, masking or biases, so a broken Java encoder could still match to 1e-4. A larger init std
    and random biases/LayerNorm affine parameters make every piece visible in the logits.
    """
    model = RobertaForSequenceClassification(base_config()).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn_like(p) * 0.1)
            elif "LayerNorm.weight" in name:
                p.copy_(1 + torch.randn_like(p) * 0.1)
    return model


def load_base():
    # Relative path on purpose: it ends up as base_model_name_or_path in adapter_config.json.
    return AutoModelForSequenceClassification.from_pretrained("base", attn_implementation=ATTN).eval()


def inputs():
    ids = torch.full((2, SEQ), PAD, dtype=torch.long)
    ids[0, 0], ids[0, SEQ - 1] = 0, 2
    ids[0, 1:SEQ - 1] = torch.randint(3, 64, (SEQ - 2,))
    n = 6  # second row: <s> + 4 tokens + </s>, then padding
    ids[1, 0], ids[1, n - 1] = 0, 2
    ids[1, 1:n - 1] = torch.randint(3, 64, (n - 2,))
    mask = (ids != PAD).long()
    return ids, mask


@torch.no_grad()
def logits_of(model, ids, mask):
    model.eval()
    return model(input_ids=ids, attention_mask=mask).logits.detach().clone()


def perturb_classifier(peft_model):
    # modules_to_save makes a trainable copy; perturb that copy so the saved head differs from the base head.
    head = peft_model.base_model.model.classifier.modules_to_save["default"]
    with torch.no_grad():
        for p in head.parameters():
            p.add_(torch.randn_like(p) * 0.2)


def head_only_logits(peft_model, ids, mask):
    """Logits of the base encoder with only the adapter's trained head: what a loader that drops the
    LoRA/DeLoRA weights but keeps modules_to_save would produce (kept for diagnosing Java failures)."""
    model = load_base()
    model.classifier.load_state_dict(peft_model.base_model.model.classifier.modules_to_save["default"].state_dict())
    return logits_of(model, ids, mask)


def merge_and_unload_seq_cls(peft_model):
    """merge_and_unload(), working around a PEFT 0.21.2 bug.

    BaseTuner._replace_module does `new_module.weight = child.weight` for the ModulesToSaveWrapper around a
    composite head (RobertaClassificationHead has no .weight) and raises AttributeError (same failure as
    huggingface/peft#3114). ModulesToSaveWrapper.unload_and_optionally_merge_module would return the trained copy,
    so put that copy in place first; the LoRA/DeLoRA layers are then merged by PEFT itself.
    """
    inner = peft_model.base_model.model
    inner.classifier = inner.classifier.modules_to_save["default"]
    return peft_model.merge_and_unload()


def tidy_adapter_dir(d):
    card = os.path.join(d, "README.md")
    if os.path.exists(card):
        os.remove(card)


def describe_safetensors(path):
    rows = []
    with safe_open(path, "pt") as f:
        meta = f.metadata()
        for k in sorted(f.keys()):
            t = f.get_slice(k)
            rows.append((k, list(t.get_shape()), t.get_dtype()))
    return meta, rows


def main():
    os.makedirs(OUT, exist_ok=True)
    os.chdir(OUT)
    for d in ("base", "lora", "delora", "lora_merged", "delora_merged"):
        shutil.rmtree(d, ignore_errors=True)

    base = make_base()
    base.save_pretrained("base", safe_serialization=True)
    base = load_base()
    ids, mask = inputs()
    golden = {"input_ids": ids, "attention_mask": mask, "logits_base": logits_of(base, ids, mask)}

    # ---- LoRA
    lora = get_peft_model(load_base(), LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                                  target_modules=["query", "value"], task_type="SEQ_CLS"))
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn_like(p) * 0.5)
    perturb_classifier(lora)
    golden["logits_lora"] = logits_of(lora, ids, mask)
    golden["logits_lora_head_only"] = head_only_logits(lora, ids, mask)
    lora.save_pretrained("lora", safe_serialization=True)
    tidy_adapter_dir("lora")

    # ---- DeLoRA (PEFT)
    delora = get_peft_model(load_base(), DeloraConfig(r=4, delora_lambda=15, module_dropout=0.0,
                                                      target_modules=["query", "value", "intermediate.dense"],
                                                      task_type="SEQ_CLS"))
    with torch.no_grad():
        for name, p in delora.named_parameters():
            if "delora_B" in name:
                p.copy_(torch.randn_like(p))
            elif "delora_lambda" in name:
                p.add_(torch.rand_like(p) * 6 - 3)  # per-module lambda in [12, 18]: loading must keep each one
    perturb_classifier(delora)
    golden["logits_delora"] = logits_of(delora, ids, mask)
    golden["logits_delora_head_only"] = head_only_logits(delora, ids, mask)
    delora.save_pretrained("delora", safe_serialization=True)
    tidy_adapter_dir("delora")

    # ---- merged exports
    for kind, model in (("lora", lora), ("delora", delora)):
        merged = merge_and_unload_seq_cls(model)
        golden[f"logits_{kind}_merged"] = logits_of(merged, ids, mask)
        torch.testing.assert_close(golden[f"logits_{kind}_merged"], golden[f"logits_{kind}"], atol=1e-5, rtol=1e-5)
        merged.save_pretrained(f"{kind}_merged", safe_serialization=True)

    # ---- round-trip checks with PEFT/transformers' own loaders
    for kind in ("lora", "delora"):
        reloaded = PeftModel.from_pretrained(load_base(), kind).eval()
        torch.testing.assert_close(logits_of(reloaded, ids, mask), golden[f"logits_{kind}"], atol=0, rtol=0)
        m = AutoModelForSequenceClassification.from_pretrained(f"{kind}_merged", attn_implementation=ATTN)
        torch.testing.assert_close(logits_of(m, ids, mask), golden[f"logits_{kind}_merged"], atol=0, rtol=0)
    # Sensitivity: the padding mask must matter for the padded row, or mask bugs would go unnoticed.
    unmasked = logits_of(base, ids, torch.ones_like(mask))
    assert (unmasked[1] - golden["logits_base"][1]).abs().max().item() > 1e-2
    for a in ("logits_lora", "logits_delora"):
        gap = (golden[a] - golden["logits_base"]).abs().max().item()
        assert gap > 1e-2, (a, gap)
        gap = (golden[a] - golden[a + "_head_only"]).abs().max().item()
        assert gap > 1e-2, (a, "encoder adapters barely change the logits", gap)  # the adapter must visibly change the output, or the fixture proves nothing

    golden = {k: (v.to(torch.int64) if k in ("input_ids", "attention_mask") else v.to(torch.float32)).contiguous()
              for k, v in golden.items()}
    save_file(golden, "golden.safetensors.tmp", metadata={"format": "pt"})
    os.replace("golden.safetensors.tmp", "golden.safetensors")

    write_readme(golden)


def write_readme(golden):
    lines = [
        "# PEFT-format golden adapters",
        "",
        "Generated by `src-test-fixtures/parity/peft_adapters.py` with "
        f"torch {torch.__version__.split('+')[0]}, transformers {transformers.__version__}, peft {peft.__version__}. "
        "Do not edit by hand.",
        "",
        "* `base/`: tiny random `RobertaForSequenceClassification` (vocab 64, hidden 32, 2 layers, 4 heads, "
        "intermediate 37, max_position 40, 3 labels, pad 1, type_vocab 1, initializer_range 0.2, biases N(0, 0.01) and "
        "LayerNorm weights 1 + N(0, 0.01) so every part of the encoder shows in the logits), "
        "`save_pretrained(safe_serialization=True)`.",
        "* `lora/`: PEFT LoRA r=4, lora_alpha=8, targets query,value, task SEQ_CLS (classifier in modules_to_save); "
        "lora_B random N(0, 0.25), classifier copy perturbed by N(0, 0.04).",
        "* `delora/`: PEFT DeLoRA r=4, delora_lambda=15, targets query,value,intermediate.dense, SEQ_CLS; delora_B "
        "random N(0,1), each module's lambda moved to U[12, 18] (so each saved `delora_lambda` differs from the "
        "config value), classifier copy perturbed.",
        "* `lora_merged/`, `delora_merged/`: `merge_and_unload()` then `save_pretrained` of the models above "
        "(the trained classifier copy is swapped in by hand first: PEFT 0.21.2's merge_and_unload raises on a "
        "modules_to_save head without `.weight`, cf. huggingface/peft#3114).",
        "* PEFT's generated model-card `README.md` inside the adapter folders is deleted (not part of the format).",
        "* All forwards in eval mode (no dropout) with `attn_implementation=\"eager\"`. N(m, v) above means mean m, "
        "variance v.",
        "",
        "## golden.safetensors",
        "",
        "| key | shape | dtype |",
        "|---|---|---|",
    ]
    for k, v in golden.items():
        lines.append(f"| `{k}` | {list(v.shape)} | {str(v.dtype).replace('torch.', '')} |")
    lines += ["", f"input_ids = `{golden['input_ids'].tolist()}` (row 1 is padded with pad id {PAD}).", ""]
    for kind in ("lora", "delora"):
        meta, rows = describe_safetensors(os.path.join(kind, "adapter_model.safetensors"))
        with open(os.path.join(kind, "adapter_config.json")) as f:
            cfg = f.read().strip()
        lines += [f"## {kind}/adapter_model.safetensors", "", f"safetensors metadata: `{json.dumps(meta)}`", "",
                  "| key | shape | dtype |", "|---|---|---|"]
        lines += [f"| `{k}` | {s} | {d} |" for k, s, d in rows]
        lines += ["", f"## {kind}/adapter_config.json", "", "```json", cfg, "```", ""]
        print(f"--- {kind}/adapter_model.safetensors  metadata={meta}")
        for k, s, d in rows:
            print(f"  {k:75s} {s} {d}")
        print(f"--- {kind}/adapter_config.json\n{cfg}")
    for kind in ("base", "lora_merged", "delora_merged"):
        meta, rows = describe_safetensors(os.path.join(kind, "model.safetensors"))
        lines += [f"## {kind}/model.safetensors", "", f"safetensors metadata: `{json.dumps(meta)}`", "",
                  "| key | shape | dtype |", "|---|---|---|"]
        lines += [f"| `{k}` | {s} | {d} |" for k, s, d in rows]
        lines.append("")
    with open("README.md.tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace("README.md.tmp", "README.md")


if __name__ == "__main__":
    main()
