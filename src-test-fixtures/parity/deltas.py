"""Per-layer golden math for LoRA, PEFT DeLoRA and the official (paper) DeLoRA formula.

Writes fixtures/deltas/<case>.safetensors (float32) and fixtures/deltas/cases.json, which lists for every case the
file, every tensor (name, shape, meaning) and the scalar hyper-parameters. Layer: a random
nn.Linear(in=12, out=10, bias=True); input x has shape [3, 5, 12]; y is the eval-mode forward output [3, 5, 10].

The PEFT cases run real PEFT 0.21.2 layers (injected with inject_adapter_in_model into a one-Linear module), so y
and delta come from PEFT's own forward / get_delta_weight. The paper case has no PEFT counterpart; it is evaluated
directly in float64 from methods.md §1.1 and rounded to float32 once.
"""
import json
import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # all inputs are local; never touch the Hub

import torch
from torch import nn
import peft
from peft import DeloraConfig, LoraConfig, inject_adapter_in_model
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures", "deltas")
IN, OUTF, RANK = 12, 10, 4
X_SHAPE = (3, 5, IN)

torch.manual_seed(1234)


class Holder(nn.Module):
    def __init__(self, lin):
        super().__init__()
        self.lin = lin


def base_linear():
    return nn.Linear(IN, OUTF, bias=True)


def write(case, tensors, meta, doc):
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}
    fname = f"{case}.safetensors"
    tmp = os.path.join(OUT, fname + ".tmp")
    save_file(tensors, tmp, metadata={"format": "pt"})
    os.replace(tmp, os.path.join(OUT, fname))
    doc["cases"][case] = {
        "file": fname,
        **meta,
        "tensors": {k: {"shape": list(v.shape), "meaning": MEANING[k.split(".", 1)[1]]} for k, v in tensors.items()},
    }


MEANING = {
    "W": "base nn.Linear weight [out, in]",
    "b": "base nn.Linear bias [out]",
    "A": "adapter A [r, in] (PEFT lora_A.weight / delora_A)",
    "B": "adapter B [out, r] (PEFT lora_B.weight / delora_B)",
    "C": "paper DeLoRA frozen copy of A at init (frozen_C) [r, in]",
    "D": "paper DeLoRA frozen copy of B at init (frozen_D) [out, r]",
    "lambda": "DeLoRA trainable scalar lambda [1]",
    "w_norm": "per-input-column L2 norm of W, ||W[:, j]||, [in] (PEFT delora_w_norm buffer)",
    "scaling": "LoRA scaling [1]: lora_alpha/r, or lora_alpha/sqrt(r) with use_rslora",
    "x": "input [3, 5, in]",
    "y": "eval-mode forward output [3, 5, out] = x W^T + b + x delta^T",
    "delta": "delta weight [out, in] (PEFT get_delta_weight; paper: formula)",
    "grad_A": "d sum(y) / dA [r, in]",
    "grad_B": "d sum(y) / dB [out, r]",
    "grad_lambda": "d sum(y) / dlambda [1]",
}


def lora_case(case, use_rslora, doc):
    lin = base_linear()
    model = inject_adapter_in_model(
        LoraConfig(r=RANK, lora_alpha=8, lora_dropout=0.0, target_modules=["lin"], use_rslora=use_rslora,
                   init_lora_weights=True), Holder(lin))
    layer = model.lin
    with torch.no_grad():
        layer.lora_A["default"].weight.copy_(torch.randn(RANK, IN) * 0.5)
        layer.lora_B["default"].weight.copy_(torch.randn(OUTF, RANK) * 0.5)
    model.eval()
    x = torch.randn(*X_SHAPE)
    with torch.no_grad():
        y = model.lin(x)
        delta = layer.get_delta_weight("default")
    scaling = layer.scaling["default"]
    expected = 8 / math.sqrt(RANK) if use_rslora else 8 / RANK
    assert scaling == expected, (scaling, expected)
    W, b = layer.base_layer.weight, layer.base_layer.bias
    # Sanity: PEFT's forward equals the dense formula.
    torch.testing.assert_close(y, x @ (W + delta).T + b, atol=1e-5, rtol=1e-5)
    p = "lora."
    write(case, {p + "W": W, p + "b": b, p + "A": layer.lora_A["default"].weight,
                 p + "B": layer.lora_B["default"].weight, p + "x": x, p + "y": y, p + "delta": delta,
                 p + "scaling": torch.tensor([scaling])},
          {"what": "PEFT LoRA Linear", "prefix": "lora.",
           "params": {"r": RANK, "lora_alpha": 8, "use_rslora": use_rslora, "lora_dropout": 0.0,
                      "scaling": scaling}}, doc)


def delora_layer(init_weights=True, delora_lambda=3.0):
    lin = base_linear()
    model = inject_adapter_in_model(
        DeloraConfig(r=RANK, delora_lambda=delora_lambda, module_dropout=0.0, target_modules=["lin"],
                     init_weights=init_weights), Holder(lin))
    return model, model.lin


def delora_peft_case(doc):
    model, layer = delora_layer()
    with torch.no_grad():
        layer.delora_A["default"].copy_(torch.randn(RANK, IN))
        layer.delora_B["default"].copy_(torch.randn(OUTF, RANK))
        layer.delora_lambda["default"].copy_(torch.rand(1) * 4 + 1)
    model.eval()
    x = torch.randn(*X_SHAPE)
    with torch.no_grad():
        y = layer(x)
        delta = layer.get_delta_weight("default")
    W, b = layer.base_layer.weight, layer.base_layer.bias
    torch.testing.assert_close(layer.delora_w_norm["default"], W.norm(dim=0))
    torch.testing.assert_close(y, x @ (W + delta).T + b, atol=1e-5, rtol=1e-5)
    p = "delora."
    write("delora_peft", {p + "W": W, p + "b": b, p + "A": layer.delora_A["default"], p + "B": layer.delora_B["default"],
                          p + "lambda": layer.delora_lambda["default"], p + "w_norm": layer.delora_w_norm["default"],
                          p + "x": x, p + "y": y, p + "delta": delta},
          {"what": "PEFT DeLoRA DeloraLinear (config delora_lambda=3.0, then lambda overwritten with a random value)",
           "prefix": "delora.",
           "params": {"r": RANK, "delora_lambda_config": 3.0, "lambda": float(layer.delora_lambda["default"]),
                      "module_dropout": 0.0}}, doc)


def paper_delta(A, B, C, D, lam, W, r):
    wnorm = W.detach().norm(dim=0)
    s1 = lam / r / (A.norm(dim=1) * B.norm(dim=0))
    s2 = lam / r / (C.norm(dim=1) * D.norm(dim=0))
    return (B @ torch.diag(s1) @ A - D @ torch.diag(s2) @ C) * wnorm[None, :]


def delora_paper_case(doc):
    lin = base_linear()
    W, b = lin.weight.detach().double(), lin.bias.detach().double()
    A = torch.randn(RANK, IN, dtype=torch.float64)
    B = torch.randn(OUTF, RANK, dtype=torch.float64)
    C = torch.randn(RANK, IN, dtype=torch.float64)
    D = torch.randn(OUTF, RANK, dtype=torch.float64)
    lam = (torch.rand(1) * 4 + 1).double()
    # Round inputs to float32 first so the float64 result is the exact answer for the stored float32 inputs.
    A, B, C, D, lam, W, b = (t.float().double() for t in (A, B, C, D, lam, W, b))
    x = torch.randn(*X_SHAPE).double()
    A.requires_grad_(True)
    B.requires_grad_(True)
    lam.requires_grad_(True)
    delta = paper_delta(A, B, C, D, lam, W, RANK)
    y = x @ W.T + b + x @ delta.T
    y.sum().backward()
    p = "paper."
    write("delora_paper", {p + "W": W, p + "b": b, p + "A": A, p + "B": B, p + "C": C, p + "D": D, p + "lambda": lam,
                           p + "w_norm": W.norm(dim=0), p + "x": x, p + "y": y, p + "delta": delta,
                           p + "grad_A": A.grad, p + "grad_B": B.grad, p + "grad_lambda": lam.grad},
          {"what": "official DeLoRA (paper) formula, methods.md §1.1, evaluated in float64 from the stored float32 "
                   "inputs: delta = (B diag(l/r/(|a_i||b_i|)) A - D diag(l/r/(|c_i||d_i|)) C) * w_norm[None,:], "
                   "no epsilon; y = x W^T + b + x delta^T; grads of sum(y) w.r.t. A, B, lambda with C, D, W frozen",
           "prefix": "paper.", "params": {"r": RANK, "lambda": float(lam)}}, doc)


def delora_grad_case(case, zero_b, doc):
    model, layer = delora_layer(init_weights=True, delora_lambda=3.0)
    if not zero_b:
        with torch.no_grad():
            layer.delora_B["default"].copy_(torch.randn(OUTF, RANK))
    model.eval()
    x = torch.randn(*X_SHAPE)
    y = layer(x)
    y.sum().backward()
    A, B, lam = layer.delora_A["default"], layer.delora_B["default"], layer.delora_lambda["default"]
    grads = (A.grad, B.grad, lam.grad)
    assert all(torch.isfinite(g).all() for g in grads)
    if zero_b:
        assert torch.count_nonzero(B) == 0
    W, b = layer.base_layer.weight, layer.base_layer.bias
    p = "grad."
    write(case, {p + "W": W, p + "b": b, p + "A": A, p + "B": B, p + "lambda": lam,
                 p + "w_norm": layer.delora_w_norm["default"], p + "x": x, p + "y": y,
                 p + "grad_A": grads[0], p + "grad_B": grads[1], p + "grad_lambda": grads[2]},
          {"what": ("PEFT DeLoRA fresh init (init_weights=True: A kaiming, B = 0, lambda = 3.0); gradients of sum(y) "
                    "after one backward. At B = 0 the clamp(min=1e-4) makes grad_A = grad_lambda = 0 and grad_B = "
                    "sum over tokens of h = ((x*w_norm) A^T) * lambda/r/(|a_i|*1e-4): finite, large")
           if zero_b else "PEFT DeLoRA with A kaiming, B random, lambda = 3.0; gradients of sum(y) after one backward",
           "prefix": "grad.", "params": {"r": RANK, "lambda": 3.0, "init_weights": True, "B_zero": zero_b}}, doc)


def main():
    os.makedirs(OUT, exist_ok=True)
    doc = {"generator": "src-test-fixtures/parity/deltas.py", "peft_version": peft.__version__,
           "torch_version": torch.__version__, "dtype": "float32", "in_features": IN, "out_features": OUTF,
           "x_shape": list(X_SHAPE), "cases": {}}
    lora_case("lora", False, doc)
    lora_case("lora_rslora", True, doc)
    delora_peft_case(doc)
    delora_paper_case(doc)
    delora_grad_case("delora_grad_b0", True, doc)
    delora_grad_case("delora_grad", False, doc)
    tmp = os.path.join(OUT, "cases.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(OUT, "cases.json"))
    for c, v in doc["cases"].items():
        print(c, v["file"], {k: t["shape"] for k, t in v["tensors"].items()})


if __name__ == "__main__":
    main()
