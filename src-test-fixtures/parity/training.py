"""Golden vectors for delora-djl's training machinery (fixture set `train/`).

Writes, with torch 2.7.1 / transformers 4.57.6 / numpy 2.2.6 (see requirements.txt):
  adamw_trajectory.safetensors  6 steps of torch.optim.AdamW (2 param groups) + get_linear_schedule_with_warmup
                                (warmup 2, total 6) + clip_grad_norm_(1.0) on a tiny regression model
  clip.safetensors              clip_grad_norm_ on three gradient tensors for several max_norm values
  schedules.json                transformers' linear warmup/decay factors for an int and a float warmup
  sparsity.json                 SoRA SparseAdamW lambda lists (np.linspace / log / exp formulas)
Run: .venv/bin/python training.py  (from any directory)
"""
import json
import math
import os

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import get_linear_schedule_with_warmup

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "main", "resources", "dev", "delora",
                   "fixtures", "train")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1234)

# ---------------------------------------------------------------- AdamW trajectory
STEPS, BATCH, IN, OUTD = 6, 8, 4, 3
w = torch.nn.Parameter(torch.randn(OUTD, IN) * 0.5)
b = torch.nn.Parameter(torch.randn(OUTD) * 0.1)
lam = torch.nn.Parameter(torch.tensor([1.5]))
x = torch.randn(STEPS, BATCH, IN)
y = torch.randn(STEPS, BATCH, OUTD) * 3.0  # large targets so clipping engages in early steps
init = {"w0": w.detach().clone(), "b0": b.detach().clone(), "lam0": lam.detach().clone()}

BASE_LR, LAM_LR = 0.1, 0.05
opt = torch.optim.AdamW([
    {"params": [w, lam], "lr": LAM_LR, "weight_decay": 0.01},  # group with its own lr
    {"params": [b], "lr": BASE_LR, "weight_decay": 0.0},       # no-decay group
])  # betas (0.9, 0.999), eps 1e-8: torch defaults
sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=2, num_training_steps=STEPS)


def loss_fn(xs, ys):
    pred = lam * (xs @ w.T + b)
    return ((pred - ys) ** 2).mean()


ws, bs, lams, lrs, norms, losses = [], [], [], [], [], []
for t in range(STEPS):
    opt.zero_grad()
    loss = loss_fn(x[t], y[t])
    loss.backward()
    norms.append(float(torch.nn.utils.clip_grad_norm_([w, b, lam], 1.0)))
    lrs.append([g["lr"] for g in opt.param_groups])
    losses.append(float(loss))
    opt.step()
    sched.step()
    ws.append(w.detach().clone())
    bs.append(b.detach().clone())
    lams.append(lam.detach().clone())

traj = dict(init)
traj.update({
    "x": x, "y": y,
    "w": torch.stack(ws), "b": torch.stack(bs), "lam": torch.stack(lams),
    "lr": torch.tensor(lrs, dtype=torch.float32),           # [STEPS, 2]: lr used by each group at each step
    "grad_norm": torch.tensor(norms, dtype=torch.float32),  # total norm before clipping
    "loss": torch.tensor(losses, dtype=torch.float32),
})
save_file({k: v.float().contiguous() for k, v in traj.items()}, os.path.join(OUT, "adamw_trajectory.safetensors"))

# ---------------------------------------------------------------- clip_grad_norm_
g = [torch.randn(5, 3), torch.randn(7) * 2.0, torch.randn(2, 2, 2) * 0.3]
clip = {f"g{i}": t.clone() for i, t in enumerate(g)}
for tag, max_norm in (("m05", 0.5), ("m2", 2.0), ("m100", 100.0)):
    ps = [torch.nn.Parameter(torch.zeros_like(t)) for t in g]
    for p, t in zip(ps, g):
        p.grad = t.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    clip[f"{tag}_total"] = total.reshape(1).float()
    for i, p in enumerate(ps):
        clip[f"{tag}_g{i}"] = p.grad.clone()
save_file({k: v.float().contiguous() for k, v in clip.items()}, os.path.join(OUT, "clip.safetensors"))


# ---------------------------------------------------------------- schedules
def factors(warmup, total):
    o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    s = get_linear_schedule_with_warmup(o, num_warmup_steps=warmup, num_training_steps=total)
    out = []
    for _ in range(total + 1):
        out.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    return out


# float warmup exactly as DeLoRA's glue_delora.py: 0.06 * len(train_loader) * epochs
loader_len, epochs = 79, 3
schedules = {
    "int": {"warmup": 2, "total": 6, "factors": factors(2, 6)},
    "float": {"warmup": 0.06 * loader_len * epochs, "total": loader_len * epochs,
              "factors": factors(0.06 * loader_len * epochs, loader_len * epochs)},
    "zero_warmup": {"warmup": 0, "total": 5, "factors": factors(0, 5)},
}
with open(os.path.join(OUT, "schedules.json"), "w") as f:
    json.dump(schedules, f, indent=1)

# ---------------------------------------------------------------- SoRA sparsity schedules (SparseAdamW._build_lambda_list)
xi0, mx = 1e-4, 7e-4
sparsity = {"xi0": xi0, "max": mx, "num": 7,
            "linear": np.linspace(xi0, mx, 7).tolist(),
            "log_linear": np.log(np.linspace(np.exp(xi0), np.exp(mx), 7)).tolist(),
            "exp_linear": np.exp(np.linspace(np.log(xi0), np.log(mx), 7)).tolist(),
            "linear_num2": np.linspace(3e-4, 1e-3, 2).tolist()}
with open(os.path.join(OUT, "sparsity.json"), "w") as f:
    json.dump(sparsity, f, indent=1)
print("wrote", sorted(os.listdir(OUT)), "grad norms", [round(n, 3) for n in norms], "lrs", lrs)
