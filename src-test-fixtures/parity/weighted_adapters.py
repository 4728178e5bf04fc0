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

Then, on the same model (after everything above is written, so those files stay byte-identical), PEFT's pruning
combinations (merge_utils: ties, magnitude_prune and their _svd forms; deterministic):

* d/                a fourth source adapter: r=4, alpha=4, query,value, random lora_B
* golden_ties.safetensors  for each combination in TIES below: logits_<name>, delta.<name>.<module> and the
                    combined factors A.<name>.<module>, B.<name>.<module> (lora_A/lora_B; for the _svd forms their
                    signs are arbitrary, only their shapes and the deltas are compared)
  ties_ab, ties_ab_d1, magnitude_prune_ab      [a, b], [0.7, -0.4], density 0.5 (ties_ab_d1: 1.0), "total"
  ties_abd, ties_abd_freq                      [a, b, d], [0.7, -0.4, 0.5], density 0.5, "total" / "frequency"
  ties_svd_ac, ties_svd_ac_d1, magnitude_prune_svd_ac   [a, c], [0.7, -0.4], density 0.5 (ties_svd_ac_d1: 1.0)
  ties_svd_abc_freq                            [a, b, c], [0.7, -0.4, 0.5], density 0.5, "frequency", svd_rank=3
The script asserts what the Java DARE tests rely on: at density 1 (no pruning) PEFT's dare_linear equals linear,
dare_ties equals ties, dare_linear_svd equals svd and dare_ties_svd equals ties_svd, all exactly; and that every
magnitude top-k it uses has a clear gap between the k-th and (k+1)-th magnitude (> 2e-6 of the largest, ten times the float32 rounding of a ΔW: rounding cannot change it).

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
    pruning_goldens(model, ids, mask)


W3 = [0.7, -0.4, 0.5]
TIES = {
    "ties_ab": (["a", "b"], WEIGHTS, dict(combination_type="ties", density=0.5)),
    "ties_ab_d1": (["a", "b"], WEIGHTS, dict(combination_type="ties", density=1.0)),
    "magnitude_prune_ab": (["a", "b"], WEIGHTS, dict(combination_type="magnitude_prune", density=0.5)),
    "ties_abd": (["a", "b", "d"], W3, dict(combination_type="ties", density=0.5)),
    "ties_abd_freq": (["a", "b", "d"], W3,
                      dict(combination_type="ties", density=0.5, majority_sign_method="frequency")),
    "ties_svd_ac": (["a", "c"], WEIGHTS, dict(combination_type="ties_svd", density=0.5)),
    "ties_svd_ac_d1": (["a", "c"], WEIGHTS, dict(combination_type="ties_svd", density=1.0)),
    "magnitude_prune_svd_ac": (["a", "c"], WEIGHTS, dict(combination_type="magnitude_prune_svd", density=0.5)),
    "ties_svd_abc_freq": (["a", "b", "c"], W3, dict(combination_type="ties_svd", density=0.5,
                                                    majority_sign_method="frequency", svd_rank=3)),
}
# density 1 prunes nothing: these must equal the named combination exactly (what the Java DARE tests rely on)
SAME_AT_DENSITY_1 = {
    "dare_linear_ab_d1": (["a", "b"], WEIGHTS, dict(combination_type="dare_linear", density=1.0), "linear_ab"),
    "dare_ties_ab_d1": (["a", "b"], WEIGHTS, dict(combination_type="dare_ties", density=1.0), "ties_ab_d1"),
    "magnitude_prune_ab_d1": (["a", "b"], WEIGHTS, dict(combination_type="magnitude_prune", density=1.0),
                              "linear_ab"),
    "dare_linear_svd_ac_d1": (["a", "c"], WEIGHTS, dict(combination_type="dare_linear_svd", density=1.0),
                              "svd_ac"),
    "dare_ties_svd_ac_d1": (["a", "c"], WEIGHTS, dict(combination_type="dare_ties_svd", density=1.0),
                            "ties_svd_ac_d1"),
}


def factors(model, name):
    out = {}
    for path, m in model.base_model.model.named_modules():
        if hasattr(m, "lora_A") and name in m.lora_A:
            out[f"A.{name}.{path}"] = m.lora_A[name].weight.detach().clone()
            out[f"B.{name}.{path}"] = m.lora_B[name].weight.detach().clone()
    return out


def topk_gap(t, density):
    """Relative gap between the k-th and (k+1)-th largest magnitude of magnitude_based_pruning's top-k."""
    k = int(density * t.numel())
    mags = t.abs().reshape(-1).double().sort(descending=True).values
    return ((mags[k - 1] - mags[k]) / mags[0]).item()


def check_margins(model):
    """Every top-k of the TIES cases has a clear gap, and no "total" sign sum is near zero."""
    gaps, sums = [], []
    for path, m in model.base_model.model.named_modules():
        if not hasattr(m, "lora_A"):
            continue
        for adapters, _, kw in TIES.values():
            if kw["density"] >= 1:
                continue
            present = [a for a in adapters if a in m.lora_A]
            if not present:
                continue
            if kw["combination_type"].endswith("svd"):
                groups = [[m.get_delta_weight(a).detach() for a in present]]
            else:
                groups = [[m.lora_A[a].weight.detach() for a in present],
                          [m.lora_B[a].weight.detach() for a in present]]
            for tensors in groups:
                gaps += [topk_gap(t, kw["density"]) for t in tensors]
                pruned = torch.stack([t * (t.abs() >= t.abs().reshape(-1).sort(descending=True).values[
                    int(kw["density"] * t.numel()) - 1]) for t in tensors])
                s = pruned.sum(0).abs()
                sums.append((s[s > 0].min() / s.max()).item() if (s > 0).any() else 1.0)
    print(f"smallest relative top-k gap {min(gaps):.3g}, smallest relative |sign sum| {min(sums):.3g}")
    assert min(gaps) > 2e-6 and min(sums) > 2e-6  # float32 rounding of a rank-4 ΔW: ~2e-7 of its max


def pruning_goldens(model, ids, mask):
    model.add_adapter("d", LoraConfig(r=4, lora_alpha=4, target_modules=["query", "value"]))
    randomise_b(model, "d")
    model.set_adapter("d")
    model.save_pretrained(OUT, selected_adapters=["d"])
    for card in (os.path.join(OUT, "d", "README.md"), os.path.join(OUT, "README.md")):
        if os.path.exists(card):
            os.remove(card)
    reloaded = PeftModel.from_pretrained(load_base(), os.path.join(OUT, "d")).eval()
    golden = {"logits_d": logits_of(model, ids, mask)}
    torch.testing.assert_close(logits_of(reloaded, ids, mask), golden["logits_d"], atol=0, rtol=0)
    check_margins(model)
    for name, (adapters, weights, kw) in TIES.items():
        model.add_weighted_adapter(adapters, weights, name, **kw)
        golden.update(deltas(model, name))
        golden.update(factors(model, name))
        model.set_adapter(name)
        golden[f"logits_{name}"] = logits_of(model, ids, mask)
    for name, (adapters, weights, kw, same) in SAME_AT_DENSITY_1.items():
        model.add_weighted_adapter(adapters, weights, name, **kw)
        for path, m in model.base_model.model.named_modules():
            if hasattr(m, "lora_A") and name in m.lora_A:
                assert torch.equal(m.get_delta_weight(name), m.get_delta_weight(same)), (name, path)
    base_logits = logits_of(load_base(), ids, mask)
    for name in TIES:
        assert (golden[f"logits_{name}"] - base_logits).abs().max().item() > 1e-2, name
    for a, b in [("ties_abd", "ties_abd_freq"), ("ties_ab", "ties_ab_d1"), ("ties_ab", "magnitude_prune_ab")]:
        assert any(not torch.equal(golden[k], golden[k.replace(a, b, 1)])
                   for k in golden if k.startswith(f"delta.{a}.")), (a, b)
    golden = {k: v.to(torch.float32).contiguous() for k, v in golden.items()}
    save_file(golden, os.path.join(OUT, "golden_ties.safetensors"), metadata={"format": "pt"})
    print("golden_ties:", len(golden), "tensors")


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
