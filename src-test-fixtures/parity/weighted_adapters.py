"""PEFT add_weighted_adapter golden vectors on the tiny RoBERTa of peft_adapters.py.

Writes into fixtures/weighted/ (reads fixtures/peft/base and the inputs of fixtures/peft/golden.safetensors):

* a/, b/, c/        source LoRA adapters (save_pretrained with selected_adapters, no task type: no modules_to_save)
                    a: r=4, alpha=8,  query,value
                    b: r=4, alpha=16, query,value
                    c: r=2, alpha=3,  query,key       (another rank and another target set)
                    every lora_B random (PEFT initialises it to zero)
* linear_ab/        add_weighted_adapter([a, b], [0.7, -0.4], "linear")
* cat_ac/           add_weighted_adapter([a, c], [0.7, -0.4], "cat")          (rank 6; value has only a)
* svd_ac/           add_weighted_adapter([a, c], [0.7, -0.4], "svd")          (rank max(4, 2) = 4)
* svd_ac_r3/        add_weighted_adapter([a, c], [0.7, -0.4], "svd", svd_rank=3)
                    (no svd_clamp case: the clamp's quantile depends on the SVD's arbitrary signs)
* single_a/         add_weighted_adapter([a], [0.5], "svd"): one adapter means "linear" in PEFT
* golden.safetensors  input_ids/attention_mask (peft's), eval logits of every adapter above (logits_<name>) and,
                    for the combined ones, each adapted module's dense update delta.<name>.<module path>
                    (scaling * B @ A, what the SVD's arbitrary signs cannot change)

Each combined folder is reloaded with PeftModel.from_pretrained and must reproduce its logits exactly.

`weighted_adapters.py --check DIR` writes nothing: it loads the folders that WeightedAdaptersTest#exportForPeft wrote
with PeftAdapters.saveAll (DIR/<name>/ for a, b, c, linear_ab, cat_ac, svd_ac) into PEFT and prints each one's max
|diff| against the golden logits (exit 1 above 1e-5, or if PEFT warns while loading).
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import shutil
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures"))
OUT = os.path.join(FIX, "weighted")
ATTN = "eager"
WEIGHTS = [0.7, -0.4]
COMBINED = {
    "linear_ab": (["a", "b"], WEIGHTS, dict(combination_type="linear")),
    "cat_ac": (["a", "c"], WEIGHTS, dict(combination_type="cat")),
    "svd_ac": (["a", "c"], WEIGHTS, dict(combination_type="svd")),
    "svd_ac_r3": (["a", "c"], WEIGHTS, dict(combination_type="svd", svd_rank=3)),
    "single_a": (["a"], [0.5], dict(combination_type="svd")),
}

torch.manual_seed(20261201)


def load_base():
    # relative on purpose (run from fixtures/peft/): it is written as base_model_name_or_path
    return AutoModelForSequenceClassification.from_pretrained("base", attn_implementation=ATTN).eval()


@torch.no_grad()
def logits_of(model, ids, mask):
    model.eval()
    return model(input_ids=ids, attention_mask=mask).logits.detach().clone()


def randomise_b(model, name):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if f"lora_B.{name}." in n:
                p.copy_(torch.randn_like(p) * 0.5)


def deltas(model, name):
    out = {}
    for path, m in model.base_model.model.named_modules():
        if hasattr(m, "lora_A") and name in m.lora_A:
            out[f"delta.{name}.{path}"] = m.get_delta_weight(name).detach().clone()
    return out


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    os.chdir(os.path.join(FIX, "peft"))
    peft_golden = load_file(os.path.join(FIX, "peft", "golden.safetensors"))
    ids, mask = peft_golden["input_ids"], peft_golden["attention_mask"]

    model = get_peft_model(load_base(), LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"]),
                           adapter_name="a")
    model.add_adapter("b", LoraConfig(r=4, lora_alpha=16, target_modules=["query", "value"]))
    model.add_adapter("c", LoraConfig(r=2, lora_alpha=3, target_modules=["query", "key"]))
    for name in ("a", "b", "c"):
        randomise_b(model, name)
    golden = {"input_ids": ids, "attention_mask": mask}
    for name, (adapters, weights, kw) in COMBINED.items():
        model.add_weighted_adapter(adapters, weights, name, **kw)
        golden.update(deltas(model, name))
    for name in ["a", "b", "c"] + list(COMBINED):
        model.set_adapter(name)
        golden[f"logits_{name}"] = logits_of(model, ids, mask)
        model.save_pretrained(OUT, selected_adapters=[name])  # OUT/<name>/, as for any adapter but "default"
        card = os.path.join(OUT, name, "README.md")
        if os.path.exists(card):
            os.remove(card)
    card = os.path.join(OUT, "README.md")
    if os.path.exists(card):
        os.remove(card)

    # the combinations must be visible in the logits, and each folder must reload to the same logits
    base_logits = logits_of(load_base(), ids, mask)
    for name in ["a", "b", "c"] + list(COMBINED):
        assert (golden[f"logits_{name}"] - base_logits).abs().max().item() > 1e-2, name
        reloaded = PeftModel.from_pretrained(load_base(), os.path.join(OUT, name)).eval()
        torch.testing.assert_close(logits_of(reloaded, ids, mask), golden[f"logits_{name}"], atol=0, rtol=0)
    golden = {k: (v if k in ("input_ids", "attention_mask") else v.to(torch.float32)).contiguous()
              for k, v in golden.items()}
    save_file(golden, os.path.join(OUT, "golden.safetensors"), metadata={"format": "pt"})
    for name in COMBINED:
        with open(os.path.join(OUT, name, "adapter_config.json")) as f:
            print(name, f.read().replace("\n", " ")[:400])


def check(root):
    import warnings

    root = os.path.abspath(root)
    os.chdir(os.path.join(FIX, "peft"))
    g = load_file(os.path.join(OUT, "golden.safetensors"))
    ok = True
    model = PeftModel.from_pretrained(load_base(), root, subfolder="a", adapter_name="a").eval()
    for name in ["a", "b", "c", "linear_ab", "cat_ac", "svd_ac"]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if name != "a":
                model.load_adapter(root, adapter_name=name, subfolder=name)
        peft_warnings = [str(w.message)[:160] for w in caught if "peft" in str(w.filename)]
        model.set_adapter(name)
        diff = (logits_of(model, g["input_ids"], g["attention_mask"]) - g[f"logits_{name}"]).abs().max().item()
        print(f"{name}: max |diff| {diff:.3g}" + (f", PEFT warned {peft_warnings}" if peft_warnings else ""))
        ok = ok and diff <= 1e-5 and not peft_warnings
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        main()
