"""Golden vectors for DoRA (PEFT 0.21.2 LoraConfig(use_dora=True)).

Writes into fixtures/dora/:

* layer.safetensors   per-layer math of PEFT's DoRA Linear on a random nn.Linear(12 -> 10, bias) named `lin`
                      (get_peft_model, r=4, lora_alpha=8, lora_dropout=0, eval mode). Key prefixes:
                      plain/  init_lora_weights=False (random A, B), magnitude perturbed after init
                      rslora/ the same with use_rslora=True
                      fresh/  default init (B = 0): magnitude = row norms of W, y = base output
                      Each case stores W, b, A, B, scaling, the magnitude PEFT computed at init, the perturbed
                      magnitude, the detached weight norm, x [3,5,12], y [3,5,10], grads of sum(y * r_weights)
                      w.r.t. A, B, magnitude, and the weight after PEFT's merge() and after unmerge().
* adapter/            PEFT save_pretrained folder of a DoRA adapter on fixtures/peft/base (r=4, alpha=8, query,value,
                      random B, perturbed magnitudes, perturbed classifier in modules_to_save)
* merged/             merge_and_unload() + save_pretrained of that adapter
* golden.safetensors  input_ids/attention_mask of peft/golden.safetensors, eval logits of the adapter and of the
                      merged model, training-mode (dropout 0) loss and grads of every trainable tensor
* cases.json          every tensor with shape and meaning; README.md: adapter keys/shapes and adapter_config.json

The adapter folder is reloaded with PeftModel.from_pretrained and the merged folder with from_pretrained; both must
reproduce their logits exactly. Re-executes itself with PYTHONHASHSEED=0 (target_modules is a set in PEFT), so reruns
are byte-identical.
"""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # all inputs are local; never touch the Hub
import shutil
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch
from torch import nn
import peft
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

from peft_adapters import describe_safetensors, merge_and_unload_seq_cls, perturb_classifier, tidy_adapter_dir

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures"))
OUT = os.path.join(FIX, "dora")
IN, OUTF, RANK, ALPHA = 12, 10, 4, 8
X_SHAPE = (3, 5, IN)
BASE = "peft/base"  # relative to fixtures/: ends up as base_model_name_or_path in adapter_config.json
ATTN = "eager"
LABELS = torch.tensor([2, 0])


class Holder(nn.Module):
    def __init__(self, lin):
        super().__init__()
        self.lin = lin

    def forward(self, x):
        return self.lin(x)


LAYER_MEANING = {
    "weight": "base nn.Linear weight W [out, in]",
    "bias": "base nn.Linear bias b [out]",
    "lora_A": "lora_A.weight A [r, in]",
    "lora_B": "lora_B.weight B [out, r]",
    "scaling": "s = lora_alpha/r (plain) or lora_alpha/sqrt(r) (rslora) [1]",
    "magnitude_init": "lora_magnitude_vector as PEFT initialises it = ||W + s B A|| per output row [out]",
    "magnitude": "magnitude m used below (magnitude_init * (1 + 0.3 N(0,1)), seeded) [out]",
    "weight_norm": "detached ||W + s B A|| per output row, as DoRA's forward computes it [out]",
    "x": "input [3, 5, in]",
    "y": "eval forward [3, 5, out] = x W^T + b + (m/n - 1) (x W^T) + (m/n) s x A^T B^T, n = weight_norm",
    "r_weights": "fixed random weights [3, 5, out]; loss = sum(y * r_weights)",
    "grad_A": "d loss / dA [r, in] (n detached)",
    "grad_B": "d loss / dB [out, r] (n detached)",
    "grad_magnitude": "d loss / dm [out]",
    "merged_weight": "base weight after PEFT merge(): (m/n')[:, None] * (W + s B A), n' = ||W + delta|| [out, in]; "
                     "bias unchanged",
    "unmerged_weight": "base weight after unmerge(): merged / (m/n')[:, None] - s B A (= W up to rounding) [out, in]",
}


def dora_layer(seed, use_rslora, init_lora_weights):
    torch.manual_seed(seed)
    lin = nn.Linear(IN, OUTF, bias=True)
    model = get_peft_model(Holder(lin), LoraConfig(
        r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=["lin"], use_dora=True, use_rslora=use_rslora,
        init_lora_weights=init_lora_weights))
    return model, model.base_model.model.lin


def layer_case(prefix, seed, use_rslora, out, doc):
    model, layer = dora_layer(seed, use_rslora, init_lora_weights=False)  # A, B: nn.Linear default init, B != 0
    W, b = layer.base_layer.weight, layer.base_layer.bias
    A, B = layer.lora_A["default"].weight, layer.lora_B["default"].weight
    dora = layer.lora_magnitude_vector["default"]
    mag = dora.weight
    s = layer.scaling["default"]
    assert s == (ALPHA / RANK ** 0.5 if use_rslora else ALPHA / RANK), s
    # clones: merge() replaces W.data, so a reference to W would later show the merged weight
    t = {"weight": W.detach().clone(), "bias": b.detach().clone(), "lora_A": A.detach().clone(),
         "lora_B": B.detach().clone(), "scaling": torch.tensor([s]),
         "magnitude_init": mag.detach().clone()}
    torch.testing.assert_close(t["magnitude_init"], (W + s * B @ A).norm(dim=1), atol=1e-6, rtol=1e-6)
    with torch.no_grad():
        mag.mul_(1 + 0.3 * torch.randn(OUTF))
    t["magnitude"] = mag.detach().clone()
    model.eval()
    x = torch.randn(*X_SHAPE)
    r_weights = torch.randn(*X_SHAPE[:2], OUTF)
    y = model(x)
    (y * r_weights).sum().backward()
    with torch.no_grad():
        lora_weight = dora.get_lora_weight(lora_A=layer.lora_A["default"], lora_B=layer.lora_B["default"])
        n = dora.get_weight_norm(W, lora_weight, s)
        ref = x @ W.T + b + (mag / n - 1) * (x @ W.T) + (mag / n) * s * (x @ A.T @ B.T)
    torch.testing.assert_close(y, ref, atol=1e-5, rtol=1e-5)
    t.update(weight_norm=n, x=x, y=y, r_weights=r_weights, grad_A=A.grad, grad_B=B.grad, grad_magnitude=mag.grad)
    bias_before = b.detach().clone()
    layer.merge()
    t["merged_weight"] = W.detach().clone()
    assert torch.equal(b, bias_before), "DoRA merge must leave the bias unchanged"
    with torch.no_grad():
        torch.testing.assert_close(model(x), y, atol=1e-5, rtol=1e-5)
    layer.unmerge()
    t["unmerged_weight"] = W.detach().clone()
    torch.testing.assert_close(t["unmerged_weight"], t["weight"], atol=1e-5, rtol=1e-5)
    assert torch.equal(b, bias_before)
    put(prefix, t, out, doc, {"r": RANK, "lora_alpha": ALPHA, "use_rslora": use_rslora, "lora_dropout": 0.0,
                              "init_lora_weights": False, "scaling": s, "seed": seed})


def fresh_case(prefix, seed, out, doc):
    model, layer = dora_layer(seed, False, init_lora_weights=True)  # A kaiming, B = 0
    W, b = layer.base_layer.weight, layer.base_layer.bias
    B = layer.lora_B["default"].weight
    assert torch.count_nonzero(B) == 0
    mag = layer.lora_magnitude_vector["default"].weight
    torch.testing.assert_close(mag, W.norm(dim=1), atol=0, rtol=0)
    model.eval()
    x = torch.randn(*X_SHAPE)
    with torch.no_grad():
        y = model(x)
        assert torch.equal(y, layer.base_layer(x)), "fresh DoRA must reproduce the base output exactly"
    put(prefix, {"weight": W, "bias": b, "lora_A": layer.lora_A["default"].weight, "lora_B": B,
                 "magnitude_init": mag, "x": x, "y": y}, out, doc,
        {"r": RANK, "lora_alpha": ALPHA, "use_rslora": False, "lora_dropout": 0.0, "init_lora_weights": True,
         "scaling": layer.scaling["default"], "seed": seed})


def put(prefix, tensors, out, doc, params):
    doc["layer.safetensors"][prefix] = {"params": params, "tensors": {}}
    for k, v in tensors.items():
        out[f"{prefix}/{k}"] = v.detach().to(torch.float32).contiguous().clone()
        doc["layer.safetensors"][prefix]["tensors"][k] = {"shape": list(v.shape), "meaning": LAYER_MEANING[k]}


def load_base(**kw):
    return AutoModelForSequenceClassification.from_pretrained(BASE, attn_implementation=ATTN, **kw).eval()


@torch.no_grad()
def logits_of(model, ids, mask):
    model.eval()
    return model(input_ids=ids, attention_mask=mask).logits.detach().clone()


def our_name(peft_name):
    return peft_name.removeprefix("base_model.model.").replace("modules_to_save.default.", "")


def adapter_part(doc):
    torch.manual_seed(20250301)
    pg = load_file(os.path.join("peft", "golden.safetensors"))
    ids, mask = pg["input_ids"], pg["attention_mask"]
    golden = {"input_ids": ids, "attention_mask": mask, "logits_base": pg["logits_base"]}
    model = get_peft_model(load_base(), LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, use_dora=True,
                                                   target_modules=["query", "value"], init_lora_weights=False,
                                                   task_type="SEQ_CLS"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn_like(p) * 0.5)
    unperturbed = logits_of(model, ids, mask)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_magnitude_vector" in name:
                p.mul_(1 + 0.3 * torch.randn_like(p))
    mag_gap = (logits_of(model, ids, mask) - unperturbed).abs().max().item()
    assert mag_gap > 1e-2, ("magnitudes barely change the logits", mag_gap)
    perturb_classifier(model)
    golden["logits_adapter"] = logits_of(model, ids, mask)
    assert (golden["logits_adapter"] - golden["logits_base"]).abs().max() > 1e-2
    model.save_pretrained("dora/adapter", safe_serialization=True)
    tidy_adapter_dir("dora/adapter")

    merged = merge_and_unload_seq_cls(model)
    golden["logits_merged"] = logits_of(merged, ids, mask)
    torch.testing.assert_close(golden["logits_merged"], golden["logits_adapter"], atol=1e-5, rtol=1e-5)
    merged.save_pretrained("dora/merged", safe_serialization=True)

    reloaded = PeftModel.from_pretrained(load_base(), "dora/adapter")
    torch.testing.assert_close(logits_of(reloaded, ids, mask), golden["logits_adapter"], atol=0, rtol=0)
    m = AutoModelForSequenceClassification.from_pretrained("dora/merged", attn_implementation=ATTN)
    torch.testing.assert_close(logits_of(m, ids, mask), golden["logits_merged"], atol=0, rtol=0)

    # Training-mode gradients as peft_gradients.py: every dropout 0, labels LABELS, the model's cross-entropy.
    model = PeftModel.from_pretrained(load_base(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0),
                                      "dora/adapter", is_trainable=True)
    model.train()
    res = model(input_ids=ids, attention_mask=mask, labels=LABELS)
    res.loss.backward()
    golden["loss"] = res.loss.detach().reshape(1).clone()
    torch.testing.assert_close(res.logits.detach(), golden["logits_adapter"], atol=1e-6, rtol=1e-6)
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and p.grad.abs().max() > 0, name
            golden[f"grad/{our_name(name)}"] = p.grad.detach().clone()
    golden = {k: (v.to(torch.int64) if k in ("input_ids", "attention_mask") else v.to(torch.float32)).contiguous()
              for k, v in golden.items()}
    save_file(golden, "dora/golden.safetensors.tmp", metadata={"format": "pt"})
    os.replace("dora/golden.safetensors.tmp", "dora/golden.safetensors")
    meaning = {"input_ids": "copied from peft/golden.safetensors [2, 9]", "attention_mask": "same [2, 9]",
               "logits_base": "eval logits of peft/base (copied from peft/golden.safetensors)",
               "logits_adapter": "eval logits of the DoRA PeftModel (adapter/ on peft/base)",
               "logits_merged": "eval logits of merge_and_unload() (merged/)",
               "loss": "training-mode cross-entropy (all dropout 0) with labels [2, 0] [1]"}
    doc["golden.safetensors"] = {
        k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
            "meaning": meaning.get(k, "d loss / d (trainable tensor); key = grad/<PEFT name without "
                                      "'base_model.model.' and 'modules_to_save.default.'>")}
        for k, v in golden.items()}
    return golden


def write_readme(golden):
    meta, rows = describe_safetensors("dora/adapter/adapter_model.safetensors")
    with open("dora/adapter/adapter_config.json") as f:
        cfg = f.read().strip()
    lines = [
        "# DoRA golden vectors",
        "",
        f"Generated by `src-test-fixtures/parity/dora.py` with torch {torch.__version__.split('+')[0]}, "
        f"transformers {transformers.__version__}, peft {peft.__version__}. Do not edit by hand. "
        "`cases.json` documents every tensor of `layer.safetensors` and `golden.safetensors`.",
        "",
        "* `adapter/`: PEFT LoRA with `use_dora=True`, r=4, lora_alpha=8, targets query,value on `peft/base`, "
        "SEQ_CLS (classifier in modules_to_save); lora_A default nn.Linear init, lora_B N(0, 0.25), each magnitude "
        "multiplied by 1 + 0.3 N(0,1), classifier copy perturbed by N(0, 0.04). Model-card README.md deleted.",
        "* `merged/`: `merge_and_unload()` + `save_pretrained` (classifier copy swapped in by hand first, as in "
        "`peft_adapters.py`).",
        "* DoRA magnitudes are saved as `<module>.lora_magnitude_vector` [out] (the in-memory parameter "
        "`lora_magnitude_vector.default.weight` with the adapter name and `.weight` removed).",
        "",
        "## adapter/adapter_model.safetensors",
        "",
        f"safetensors metadata: `{json.dumps(meta)}`",
        "",
        "| key | shape | dtype |",
        "|---|---|---|",
    ]
    lines += [f"| `{k}` | {s} | {d} |" for k, s, d in rows]
    lines += ["", "## adapter/adapter_config.json", "", "```json", cfg, "```", ""]
    with open("dora/README.md.tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace("dora/README.md.tmp", "dora/README.md")
    print(f"--- adapter_model.safetensors metadata={meta}")
    for k, s, d in rows:
        print(f"  {k:75s} {s} {d}")


def main():
    os.chdir(FIX)
    os.makedirs("dora", exist_ok=True)
    for d in ("dora/adapter", "dora/merged"):
        shutil.rmtree(d, ignore_errors=True)
    doc = {"generator": "src-test-fixtures/parity/dora.py", "peft_version": peft.__version__,
           "torch_version": torch.__version__.split("+")[0], "transformers_version": transformers.__version__,
           "dtype": "float32", "in_features": IN, "out_features": OUTF, "x_shape": list(X_SHAPE),
           "layer_formula": "n = ||W + s B A||_row (detached), y = x W^T + b + (m/n - 1)(x W^T) + (m/n) s (x A^T B^T); "
                            "merge: W' = (m/n)[:, None] (W + s B A), bias unchanged",
           "layer.safetensors": {}}
    layer = {}
    layer_case("plain", 101, False, layer, doc)
    layer_case("rslora", 102, True, layer, doc)
    fresh_case("fresh", 103, layer, doc)
    save_file(layer, "dora/layer.safetensors.tmp", metadata={"format": "pt"})
    os.replace("dora/layer.safetensors.tmp", "dora/layer.safetensors")
    golden = adapter_part(doc)
    with open("dora/cases.json.tmp", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace("dora/cases.json.tmp", "dora/cases.json")
    write_readme(golden)
    for name, tensors in (("layer", layer), ("golden", golden)):
        for k, v in tensors.items():
            print(f"{name}: {k} {list(v.shape)}")


if __name__ == "__main__":
    main()
