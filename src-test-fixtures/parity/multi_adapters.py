"""PEFT multi-adapter golden vectors (several active adapters, mixed-adapter batches) on the tiny RoBERTa of
peft_adapters.py.

Writes into fixtures/multi/ (reads fixtures/peft/base):

* task1/, task2/    LoRA adapters, save_pretrained with selected_adapters (no task type: no modules_to_save)
                    task1: r=4, alpha=8, query,value
                    task2: r=2, alpha=3, query,key,intermediate.dense   (another rank and another target set)
                    every lora_B random (PEFT initialises it to zero)
* golden.safetensors
                    input_ids/attention_mask [5, 9] (rows of different lengths, right padding) and eval logits:
                    logits_base, logits_task1, logits_task2 (each adapter alone), logits_both
                    (model.base_model.set_adapter(["task1", "task2"]): both active, their updates summed),
                    logits_mixed (model(..., adapter_names=MIXED), one name per row, "__base__" = no adapter);
                    the metadata holds MIXED comma-separated under "adapter_names"

The script checks what the Java tests rely on: the mixed batch equals each row run alone with its adapter (or the
base), both-active differs from each alone, and each folder reloads to its logits exactly.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import shutil
import sys

# PEFT writes target_modules (a set) in hash order: pin the hash seed so reruns are byte-identical
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures"))
OUT = os.path.join(FIX, "multi")
ATTN = "eager"
PAD = 1
SEQ = 9
LENGTHS = [9, 6, 8, 4, 7]
MIXED = ["task1", "__base__", "task2", "task1", "task2"]  # names without "a": PEFT warns about names in "lora_"

torch.manual_seed(20261216)


def load_base():
    # relative on purpose (run from fixtures/peft/): it is written as base_model_name_or_path
    return AutoModelForSequenceClassification.from_pretrained("base", attn_implementation=ATTN).eval()


def inputs():
    ids = torch.full((len(LENGTHS), SEQ), PAD, dtype=torch.long)
    for row, n in enumerate(LENGTHS):
        ids[row, 0], ids[row, n - 1] = 0, 2
        ids[row, 1:n - 1] = torch.randint(3, 64, (n - 2,))
    return ids, (ids != PAD).long()


@torch.no_grad()
def logits_of(model, ids, mask, **kw):
    model.eval()
    return model(input_ids=ids, attention_mask=mask, **kw).logits.detach().clone()


def randomise_b(model, name):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if f"lora_B.{name}." in n:
                p.copy_(torch.randn_like(p) * 0.5)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    os.chdir(os.path.join(FIX, "peft"))
    ids, mask = inputs()
    base_logits = logits_of(load_base(), ids, mask)

    model = get_peft_model(load_base(), LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"]),
                           adapter_name="task1")
    model.add_adapter("task2", LoraConfig(r=2, lora_alpha=3, target_modules=["query", "key", "intermediate.dense"]))
    for name in ("task1", "task2"):
        randomise_b(model, name)
    golden = {"input_ids": ids, "attention_mask": mask, "logits_base": base_logits}
    for name in ("task1", "task2"):
        model.set_adapter(name)
        golden[f"logits_{name}"] = logits_of(model, ids, mask)
        model.save_pretrained(OUT, selected_adapters=[name])  # OUT/<name>/
        card = os.path.join(OUT, name, "README.md")
        if os.path.exists(card):
            os.remove(card)
    card = os.path.join(OUT, "README.md")
    if os.path.exists(card):
        os.remove(card)

    model.base_model.set_adapter(["task1", "task2"])
    assert model.base_model.active_adapters == ["task1", "task2"]
    golden["logits_both"] = logits_of(model, ids, mask)
    model.base_model.set_adapter("task1")  # adapter_names overrides the active adapters row by row
    golden["logits_mixed"] = logits_of(model, ids, mask, adapter_names=MIXED)

    # what the Java tests rely on
    for key in ("logits_task1", "logits_task2", "logits_both"):
        assert (golden[key] - base_logits).abs().max().item() > 1e-2, key
    for key in ("logits_task1", "logits_task2"):
        assert (golden["logits_both"] - golden[key]).abs().max().item() > 1e-2, key
    for row, name in enumerate(MIXED):
        want = base_logits if name == "__base__" else golden[f"logits_{name}"]
        torch.testing.assert_close(golden["logits_mixed"][row], want[row], atol=1e-5, rtol=0)
    for name in ("task1", "task2"):
        reloaded = PeftModel.from_pretrained(load_base(), os.path.join(OUT, name)).eval()
        torch.testing.assert_close(logits_of(reloaded, ids, mask), golden[f"logits_{name}"], atol=0, rtol=0)

    golden = {k: (v if k in ("input_ids", "attention_mask") else v.to(torch.float32)).contiguous()
              for k, v in golden.items()}
    save_file(golden, os.path.join(OUT, "golden.safetensors"),
              metadata={"format": "pt", "adapter_names": ",".join(MIXED)})
    for k, v in golden.items():
        print(k, list(v.shape))


if __name__ == "__main__":
    main()
