"""Writes the TorchScript attention kernel that delora-djl ships as a resource (not a fixture).

DJL 0.35.1's PyTorch JNI has no binding of ``torch.nn.functional.scaled_dot_product_attention``; DJL does load
TorchScript modules and runs them under autograd, so this ~3 KB scripted module is how the encoder and decoder
reach the fused kernel (dev.delora.djl.hf.AttentionKernels). Rerun after changing the module's code:

    .venv/bin/python src-test-fixtures/parity/attention_kernel.py

The file is loaded by libtorch's ``torch::jit::load``; saved by torch 2.7.1 (the libtorch DJL 0.35.1 uses).
"""
import pathlib

import torch
import torch.nn.functional as F

OUT = (pathlib.Path(__file__).resolve().parents[2]
       / "delora-djl/src/main/resources/dev/delora/djl/hf/sdpa.pt")


class Sdpa(torch.nn.Module):
    """forward(q [B,H,T,D], k [B,Hkv,S,D], v [B,Hkv,S,D], mask [B|1,1,T|1,S] additive, options [2]) -> [B,T,H*D].

    options = [dropout_p, scale] as float32 (a tensor, since DJL passes only tensors); Hkv < H is grouped-query
    attention, each key/value head serving H/Hkv consecutive query heads. The heads are repeated here, as
    transformers' repeat_kv does before its sdpa call when there is a mask: with ``enable_gqa`` and a mask, torch
    2.7 on CPU picks the unfused math backend (``torch._fused_sdp_choice``), which stores the probabilities.
    """

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor,
                options: torch.Tensor) -> torch.Tensor:
        dropout_p = float(options[0])
        scale = float(options[1])
        groups = q.size(1) // k.size(1)
        if groups > 1:
            k = k.repeat_interleave(groups, dim=1)
            v = v.repeat_interleave(groups, dim=1)
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, scale=scale)
        b, h, t, d = ctx.shape
        return ctx.transpose(1, 2).reshape(b, t, h * d)


def main():
    assert torch.__version__.startswith("2.7.1"), torch.__version__
    module = torch.jit.script(Sdpa().eval())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    module.save(str(OUT))
    # self-check: the scripted module equals eager attention, forward and backward
    torch.manual_seed(0)
    q = torch.randn(2, 4, 5, 8)
    k, v = torch.randn(2, 2, 5, 8), torch.randn(2, 2, 5, 8)
    mask = torch.zeros(2, 1, 1, 5)
    mask[1, ..., 3:] = torch.finfo(torch.float32).min
    loaded = torch.jit.load(str(OUT))
    got = loaded(q, k, v, mask, torch.tensor([0.0, 8 ** -0.5]))
    kr, vr = k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1)
    ref = (torch.softmax(q @ kr.transpose(-1, -2) * 8 ** -0.5 + mask, -1) @ vr).transpose(1, 2).reshape(2, 5, 32)
    assert torch.allclose(got, ref, atol=1e-6), (got - ref).abs().max()
    # the backend torch picks for the decoder's grouped-query shapes after the repeat: flash (1), not math (0)
    qd = torch.randn(2, 9, 40, 64, requires_grad=True)
    assert torch._fused_sdp_choice(qd, qd, qd, torch.zeros(2, 1, 40, 40), 0.0, False) == 1
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
