"""Golden fixtures for the decoder-only (causal LM) models of delora-djl (fixture set `decoders/`).

Writes into fixtures/decoders/:

* tiny-llama/               tiny random LlamaForCausalLM (vocab 96, hidden 32, intermediate 48, 2 layers, 4 heads,
                            2 key/value heads = grouped-query attention, rope_theta 1e4, untied lm_head);
                            `save_pretrained(safe_serialization=True)`: config.json, model.safetensors,
                            generation_config.json
* tiny-llama-rope-llama3/   the same weights (same seed) with rope_scaling rope_type "llama3"
* tiny-llama-tied/          the same sizes with tie_word_embeddings=True (no lm_head.weight in the file)
* tiny-qwen2/               tiny random Qwen2ForCausalLM (same sizes, rope_theta 1e6, tied embeddings, random q/k/v
                            biases, no sliding window)
* peft-lora/                PEFT LoRA CAUSAL_LM adapter on tiny-llama (r=4, alpha=8, q_proj,v_proj,
                            init_lora_weights=False so lora_B is random)
* peft-delora/              PEFT DeLoRA CAUSAL_LM adapter on tiny-llama (r=4, lambda=12, q_proj,v_proj,up_proj,
                            random delora_B, each module's lambda moved to U[9, 15])
* golden.safetensors        per model M: input_ids / attention_mask [2, 7] (row 1 LEFT-padded), eval logits without
                            position_ids, eval logits with generate-style position_ids, greedy tokens of
                            model.generate (with and without KV cache) and the raw logits of every generated step;
                            per adapter: eval logits, training-mode loss with a prompt mask and the gradient of every
                            trainable tensor; the labels used
* generation.safetensors    generate() with eos_token_id (per-row EOS stopping, pad_token_id 0) on tiny-llama, and
                            transformers' sampling warpers (Temperature, TopK, TopP) on random logits [4, 96]
* cases.json                every tensor of golden.safetensors with shape and meaning, and the exact transformers calls
* README.md                 folders, configs, state-dict keys/shapes, adapter keys/shapes and adapter_config.json

Every random draw is seeded, every forward runs in float32 with attn_implementation="eager"; all golden tensors are
computed on the folders reloaded with from_pretrained / PeftModel.from_pretrained (and checked against the in-memory
models). Re-executes itself with PYTHONHASHSEED=0 (PEFT keeps target_modules as a set), so reruns are byte-identical.

Run: .venv/bin/python src-test-fixtures/parity/decoders.py
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

import torch
import peft
import transformers
from peft import DeloraConfig, LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from peft_adapters import describe_safetensors, tidy_adapter_dir

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures", "decoders"))
ATTN = "eager"  # plain softmax(QK^T / sqrt(d) + mask) V; the Java decoder implements the same math
PAD, BOS, EOS = 0, 1, 2
VOCAB, SEQ, N_PAD, NEW = 96, 7, 2, 6
PROMPT_MASKED = 3  # the first 3 real tokens of each row are "prompt": label -100
INIT_STD = 0.2
MIN_GREEDY_GAP = 1e-3  # top-1 minus top-2 logit at every greedy step, so float noise cannot flip a token

SIZES = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, bos_token_id=BOS,
             eos_token_id=EOS, pad_token_id=PAD, initializer_range=INIT_STD, attention_dropout=0.0, dtype="float32")
# Llama-3.1 style rope scaling. original_max_position_embeddings is 64 (not 16): with head_dim 8 and theta 1e4 the
# four RoPE wavelengths are 2*pi*{1, 10, 100, 1000}; with 64 the high-frequency cut is 64/4 = 16 and the
# low-frequency cut 64/1 = 64, so the pairs fall in all three branches of the llama3 formula (kept, smoothed,
# divided by factor). With 16 no pair would be in the "kept" branch. transformers' config validation wants
# original_max_position_embeddings < max_position_embeddings, so this variant has max_position_embeddings
# 512 = factor * 64 (as the scaled Llama-3.1 checkpoints have max > original); nothing in the llama3 formula or the
# weights depends on max_position_embeddings.
ROPE_LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 64}
ROPE_LLAMA3_MAX_POS = 512

MODELS = {
    # name: (config factory, seed). tiny-llama and tiny-llama-rope-llama3 share the seed, so their weights are equal
    # and their logits differ only by the rope scaling.
    "tiny-llama": (lambda: LlamaConfig(**SIZES, rope_theta=10000.0, tie_word_embeddings=False,
                                       attention_bias=False), 1007),
    "tiny-llama-rope-llama3": (lambda: LlamaConfig(**{**SIZES, "max_position_embeddings": ROPE_LLAMA3_MAX_POS},
                                                   rope_theta=10000.0, tie_word_embeddings=False,
                                                   attention_bias=False, rope_scaling=dict(ROPE_LLAMA3)), 1007),
    "tiny-llama-tied": (lambda: LlamaConfig(**SIZES, rope_theta=10000.0, tie_word_embeddings=True,
                                            attention_bias=False), 1021),
    "tiny-qwen2": (lambda: Qwen2Config(**SIZES, rope_theta=1000000.0, tie_word_embeddings=True,
                                       use_sliding_window=False), 1018),
}
CLASSES = {"tiny-llama": LlamaForCausalLM, "tiny-llama-rope-llama3": LlamaForCausalLM,
           "tiny-llama-tied": LlamaForCausalLM, "tiny-qwen2": Qwen2ForCausalLM}
ADAPTERS = ("peft-lora", "peft-delora")


def make_model(name):
    """Random model whose logits depend on every part of the decoder.

    initializer_range 0.2 (instead of 0.02) for every Linear/Embedding; every RMSNorm weight 1 + 0.1 N(0,1) and every
    bias (Qwen2 q/k/v) 0.2 N(0,1), so a Java decoder that drops a norm weight or a bias cannot match.
    """
    factory, seed = MODELS[name]
    torch.manual_seed(seed)
    model = CLASSES[name](factory())
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif pname.endswith("bias"):
                p.copy_(0.2 * torch.randn_like(p))
    return model.eval()


def load(name, **kw):
    # Relative path on purpose (cwd = fixtures/decoders): it ends up as base_model_name_or_path in adapter_config.json.
    return AutoModelForCausalLM.from_pretrained(name, attn_implementation=ATTN, **kw).eval()


def inputs():
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(3, VOCAB, (2, SEQ), generator=g)
    ids[1, :N_PAD] = PAD  # LEFT padding
    mask = torch.ones(2, SEQ, dtype=torch.long)
    mask[1, :N_PAD] = 0
    return ids, mask


def generate_position_ids(mask):
    # exactly what GenerationMixin._prepare_inputs_for_generation does when position_ids are missing
    pos = mask.long().cumsum(-1) - 1
    pos.masked_fill_(mask == 0, 1)
    # the brief's spelling of the same thing
    assert torch.equal(pos, ((mask.cumsum(-1) - 1).clamp(min=0)).masked_fill(mask == 0, 1))
    return pos


@torch.no_grad()
def fwd(model, ids, mask, position_ids=None):
    model.eval()
    return model(input_ids=ids, attention_mask=mask, position_ids=position_ids).logits.detach().clone()


@torch.no_grad()
def greedy(model, ids, mask, use_cache):
    out = model.generate(ids, attention_mask=mask, max_new_tokens=NEW, do_sample=False, pad_token_id=PAD,
                         eos_token_id=None, use_cache=use_cache, output_logits=True, return_dict_in_generate=True)
    assert out.sequences.shape == (2, SEQ + NEW), out.sequences.shape  # no early stop
    assert torch.equal(out.sequences[:, :SEQ], ids)
    return out.sequences[:, SEQ:].clone(), torch.stack(out.logits, dim=1).detach().clone()


@torch.no_grad()
def manual_greedy(model, ids, mask):
    """Reference loop: full recompute each step with generate-style positions; no cache, no processors."""
    toks, steps = [], []
    for _ in range(NEW):
        logits = fwd(model, ids, mask, generate_position_ids(mask))[:, -1]
        nxt = logits.argmax(-1)
        steps.append(logits)
        toks.append(nxt)
        ids = torch.cat([ids, nxt[:, None]], 1)
        mask = torch.cat([mask, torch.ones(2, 1, dtype=mask.dtype)], 1)
    return torch.stack(toks, 1), torch.stack(steps, 1)


def check_pad_rows_uniform(model, ids, mask):
    """A fully masked query row (row 1, t < N_PAD) gets finfo(float32).min on every key in the eager additive mask;
    score + min rounds to min, so softmax is exactly uniform over all SEQ keys (future ones included)."""
    with torch.no_grad():
        att = model(input_ids=ids, attention_mask=mask, output_attentions=True).attentions
    for a in att:
        torch.testing.assert_close(a[1, :, :N_PAD, :], torch.full_like(a[1, :, :N_PAD, :], 1.0 / SEQ),
                                   atol=1e-7, rtol=0)
        assert torch.all(a[1, :, N_PAD:, :N_PAD] == 0)  # real queries never see the pads


def model_part(golden, doc):
    ids, mask = inputs()
    pos = generate_position_ids(mask)
    first_logits = {}
    for name in MODELS:
        shutil.rmtree(name, ignore_errors=True)
        mem = make_model(name)
        mem.config._attn_implementation = ATTN
        mem.save_pretrained(name, safe_serialization=True)
        model = load(name)
        g = {"input_ids": ids, "attention_mask": mask}
        g["logits"] = fwd(model, ids, mask)
        torch.testing.assert_close(fwd(mem, ids, mask), g["logits"], atol=0, rtol=0)
        g["position_ids"] = pos
        g["logits_positions"] = fwd(model, ids, mask, pos)
        g["inv_freq"] = model.model.rotary_emb.inv_freq.detach().clone()
        toks, steps = greedy(model, ids, mask, use_cache=True)
        toks_nc, steps_nc = greedy(model, ids, mask, use_cache=False)
        assert torch.equal(toks, toks_nc), (name, toks, toks_nc)
        torch.testing.assert_close(steps, steps_nc, atol=1e-5, rtol=1e-5)
        ref_toks, ref_steps = manual_greedy(model, ids, mask)
        assert torch.equal(toks, ref_toks), (name, toks, ref_toks)
        torch.testing.assert_close(steps, ref_steps, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(steps[:, 0], g["logits_positions"][:, -1], atol=1e-5, rtol=1e-5)
        top2 = steps.topk(2, dim=-1).values
        gap = (top2[..., 0] - top2[..., 1]).min().item()
        assert gap > MIN_GREEDY_GAP, (name, "greedy step too close to a tie", gap)
        # seeds picked so that no special token (pad 0, bos 1, eos 2) is generated: a Java generate that does stop
        # at eos 2 still produces the same 6 tokens
        assert not torch.isin(toks, torch.tensor([PAD, BOS, EOS])).any(), (name, toks)
        g.update(greedy_tokens=toks, greedy_tokens_nocache=toks_nc, step_logits=steps, step_logits_nocache=steps_nc)

        # ---- sensitivity: each feature the Java side must get right visibly changes the numbers
        row0 = g["logits"][0]
        torch.testing.assert_close(g["logits_positions"][0], row0, atol=1e-6, rtol=1e-6)  # row 0: positions 0..6 both
        # RoPE only sees q-k position differences and real queries never see the pads, so moving row 1's real
        # tokens from positions 2..6 to 0..4 leaves their logits unchanged up to rounding; pad queries attend
        # uniformly to every key (see check_pad_rows_uniform) and V carries no position, so theirs do not move
        # either. logits_positions therefore equals logits up to float rounding (asserted, and recorded).
        d_pos = (g["logits_positions"] - g["logits"]).abs().max().item()
        assert d_pos < 1e-5, (name, "a position shift changed the logits", d_pos)
        d = (fwd(model, ids, torch.ones_like(mask))[1, N_PAD:] - g["logits"][1, N_PAD:]).abs().max().item()
        assert d > 1e-2, (name, "padding mask barely matters", d)
        check_pad_rows_uniform(model, ids, mask)
        if name == "tiny-qwen2":
            nob = load(name)
            with torch.no_grad():
                for pname, p in nob.named_parameters():
                    if pname.endswith("bias"):
                        p.zero_()
            d = (fwd(nob, ids, mask) - g["logits"]).abs().max().item()
            assert d > 1e-2, ("qwen2 biases barely matter", d)
        if model.config.tie_word_embeddings:
            assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
        first_logits[name] = g["logits"]
        for k, v in g.items():
            golden[f"{name}/{k}"] = v.clone()  # safetensors refuses tensors that share memory
        gen_cfg = {k: getattr(model.generation_config, k) for k in ("bos_token_id", "eos_token_id", "pad_token_id")}
        doc["models"][name] = {"class": type(model).__name__, "seed": MODELS[name][1],
                               "generation_config": gen_cfg,
                               "eos_in_greedy_tokens": bool((toks == EOS).any()),
                               "min_top1_top2_gap_in_step_logits": round(gap, 6),
                               "max_abs_diff_logits_vs_logits_positions": d_pos}
        print(name, "greedy", toks.tolist(), "min gap", f"{gap:.4f}")
    d = (first_logits["tiny-llama-rope-llama3"] - first_logits["tiny-llama"]).abs().max().item()
    assert d > 1e-2, ("llama3 rope scaling barely matters", d)
    # the llama3 formula, written out (attention_factor stays 1.0 for rope_type llama3)
    inv = 1.0 / (10000.0 ** (torch.arange(0, 8, 2, dtype=torch.int64).float() / 8))
    f, lo, hi, old = (ROPE_LLAMA3[k] for k in ("factor", "low_freq_factor", "high_freq_factor",
                                                "original_max_position_embeddings"))
    wavelen = 2 * torch.pi / inv
    smooth = (old / wavelen - lo) / (hi - lo)
    ref = torch.where(wavelen < old / hi, inv, torch.where(wavelen > old / lo, inv / f,
                                                           (1 - smooth) * inv / f + smooth * inv))
    torch.testing.assert_close(golden["tiny-llama-rope-llama3/inv_freq"], ref, atol=0, rtol=1e-6)
    torch.testing.assert_close(golden["tiny-llama/inv_freq"], inv, atol=0, rtol=1e-6)
    branches = ["kept" if w < old / hi else "divided" if w > old / lo else "smoothed" for w in wavelen.tolist()]
    assert set(branches) == {"kept", "smoothed", "divided"}, branches
    doc["rope_llama3_branches_per_pair"] = branches
    return ids, mask


def labels_for(ids, mask):
    labels = ids.clone()
    labels[mask == 0] = -100
    for row in range(ids.shape[0]):
        first = int((mask[row] == 0).sum())  # left padding: real tokens start here
        labels[row, first:first + PROMPT_MASKED] = -100
    return labels


def our_name(peft_name):
    return peft_name.removeprefix("base_model.model.")


def adapter_part(golden, doc, ids, mask):
    labels = labels_for(ids, mask)
    golden["labels"] = labels
    base_logits = golden["tiny-llama/logits"]
    for kind in ADAPTERS:
        shutil.rmtree(kind, ignore_errors=True)
        if kind == "peft-lora":
            torch.manual_seed(2001)
            model = get_peft_model(load("tiny-llama"), LoraConfig(
                r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM",
                init_lora_weights=False))  # A and B: nn.Linear default init (kaiming uniform), B != 0
        else:
            torch.manual_seed(2002)
            model = get_peft_model(load("tiny-llama"), DeloraConfig(
                r=4, delora_lambda=12, module_dropout=0.0, target_modules=["q_proj", "v_proj", "up_proj"],
                task_type="CAUSAL_LM"))
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if "delora_B" in name:
                        p.copy_(torch.randn_like(p))
                    elif "delora_lambda" in name:
                        p.add_(torch.rand_like(p) * 6 - 3)  # per-module lambda in [9, 15]: loading must keep each
        mem_logits = fwd(model, ids, mask)
        model.save_pretrained(kind, safe_serialization=True)
        tidy_adapter_dir(kind)

        reloaded = PeftModel.from_pretrained(load("tiny-llama"), kind).eval()
        logits = fwd(reloaded, ids, mask)
        torch.testing.assert_close(logits, mem_logits, atol=0, rtol=0)
        gap = (logits - base_logits).abs().max().item()
        assert gap > 1e-2, (kind, "adapter barely changes the logits", gap)
        golden[f"{kind}/logits"] = logits

        # one training step's gradients (no optimizer step): dropout is 0 everywhere, so train == eval numerics
        model = PeftModel.from_pretrained(load("tiny-llama"), kind, is_trainable=True)
        model.train()
        res = model(input_ids=ids, attention_mask=mask, labels=labels)
        res.loss.backward()
        torch.testing.assert_close(res.logits.detach(), logits, atol=1e-6, rtol=1e-6)
        # transformers' ForCausalLMLoss written out: shift by one, mean CE over labels != -100
        shift = torch.nn.functional.pad(labels, (0, 1), value=-100)[:, 1:]
        ref = torch.nn.functional.cross_entropy(res.logits.detach().reshape(-1, VOCAB), shift.reshape(-1),
                                                ignore_index=-100, reduction="mean")
        torch.testing.assert_close(res.loss.detach(), ref, atol=1e-6, rtol=1e-6)
        golden[f"{kind}/loss"] = res.loss.detach().reshape(1).clone()
        golden[f"{kind}/labels"] = labels.clone()
        n = 0
        for name, p in model.named_parameters():
            if p.requires_grad:
                assert p.grad is not None and p.grad.abs().max() > 0, name
                golden[f"{kind}/grad/{our_name(name)}"] = p.grad.detach().clone()
                n += 1
        doc["adapters"][kind] = {"trainable_tensors": n, "loss": res.loss.item(),
                                 "unmasked_label_count": int((shift != -100).sum())}
        print(kind, "loss", res.loss.item(), "trainable tensors", n)


MEANING = {
    "input_ids": "int64 [2, 7]; row 0: 7 real tokens; row 1: LEFT-padded, 2 x pad id 0 then 5 real tokens; "
                 "ids of real tokens in 3..95 (never bos 1 / eos 2 / pad 0). Same values for every model",
    "attention_mask": "int64 [2, 7]; 1 = real token, 0 = pad",
    "logits": "float32 [2, 7, 96]; model(input_ids, attention_mask=attention_mask).logits, eval, eager, NO "
              "position_ids: transformers then uses cache_position = arange(7), i.e. positions 0..6 for BOTH rows "
              "(row 1's real tokens sit at positions 2..6)",
    "position_ids": "int64 [2, 7]; what generate() computes: attention_mask.cumsum(-1) - 1, then "
                    "masked_fill_(attention_mask == 0, 1) -> row 0 [0..6], row 1 [1, 1, 0, 1, 2, 3, 4]",
    "logits_positions": "float32 [2, 7, 96]; the same forward with position_ids=position_ids (row 0 equals `logits` "
                        "row 0 up to rounding)",
    "inv_freq": "float32 [head_dim/2 = 4]; model.model.rotary_emb.inv_freq (after rope scaling; attention_scaling "
                "is 1.0 for all four models)",
    "greedy_tokens": "int64 [2, 6]; new tokens of model.generate(input_ids, attention_mask=attention_mask, "
                     "max_new_tokens=6, do_sample=False, pad_token_id=0, eos_token_id=None, use_cache=True, "
                     "output_logits=True, return_dict_in_generate=True).sequences[:, 7:]",
    "greedy_tokens_nocache": "int64 [2, 6]; the same with use_cache=False (asserted equal to greedy_tokens)",
    "step_logits": "float32 [2, 6, 96]; torch.stack(out.logits, 1) of the use_cache=True call: the raw logits of "
                   "the last position at each step, before any logits processor (greedy has none anyway); "
                   "step 0 = logits_positions[:, -1] up to rounding",
    "step_logits_nocache": "float32 [2, 6, 96]; the same from the use_cache=False call (equal to step_logits "
                           "within 1e-5)",
}
ADAPTER_MEANING = {
    "logits": "float32 [2, 7, 96]; eval logits of PeftModel.from_pretrained(tiny-llama, <adapter>) on the "
              "tiny-llama inputs, attention_mask, NO position_ids",
    "loss": "float32 [1]; model(input_ids, attention_mask=attention_mask, labels=labels).loss in train mode "
            "(every dropout is 0): transformers' ForCausalLMLoss = labels padded with -100 on the right and shifted "
            "left by one, cross_entropy(logits.float().view(-1, 96), shift_labels, ignore_index=-100, "
            "reduction='mean'): mean over the 6 positions whose next token is not -100",
    "labels": "int64 [2, 7]; copy of the top-level `labels`",
    "grad/": "d loss / d (trainable tensor), same shape as the tensor; key = <adapter>/grad/<PEFT in-memory "
             "parameter name without 'base_model.model.'>, e.g. model.layers.0.self_attn.q_proj.lora_A.default.weight "
             "or model.layers.0.mlp.up_proj.delora_lambda.default",
}


def tensor_doc(golden):
    out = {}
    for k, v in golden.items():
        parts = k.split("/")
        if k == "labels":
            meaning = ("int64 [2, 7]; tiny-llama/input_ids with pad positions and the first 3 real tokens of each "
                       "row set to -100 (a prompt mask)")
        elif parts[0] in ADAPTERS:
            meaning = ADAPTER_MEANING["grad/" if parts[1] == "grad" else parts[1]]
        else:
            meaning = MEANING[parts[1]]
        out[k] = {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "meaning": meaning}
    return out


# (name, temperature, top_k, top_p): the warpers in generate's order, each only when it changes anything
WARPER_SETTINGS = (("t0.7", 0.7, 0, 1.0), ("k5", 1.0, 5, 1.0), ("p0.9", 1.0, 0, 0.9), ("p0.05", 1.0, 0, 0.05),
                   ("t0.7_k5_p0.9", 0.7, 5, 0.9))


def warp(scores, temperature, top_k, top_p):
    from transformers.generation.logits_process import (LogitsProcessorList, TemperatureLogitsWarper,
                                                        TopKLogitsWarper, TopPLogitsWarper)
    procs = LogitsProcessorList()
    if temperature != 1.0:
        procs.append(TemperatureLogitsWarper(temperature))
    if top_k:
        procs.append(TopKLogitsWarper(top_k, min_tokens_to_keep=1))
    if top_p < 1.0:
        procs.append(TopPLogitsWarper(top_p, min_tokens_to_keep=1))
    return procs(torch.zeros(scores.shape[0], 1, dtype=torch.long), scores.clone())


@torch.no_grad()
def generation_part(golden, doc):
    """generation.safetensors: EOS stopping per row and the sampling warpers. Reads golden, writes nothing into it."""
    gen = {}
    model = load("tiny-llama")
    ids, mask = golden["tiny-llama/input_ids"], golden["tiny-llama/attention_mask"]
    toks = golden["tiny-llama/greedy_tokens"]
    eos_row0 = int(toks[0, 3])  # row 0's 4th greedy token
    cases = {"eos1": [eos_row0], "eos2": [eos_row0, int(toks[1, 1])]}
    meta = {}
    for case, eos in cases.items():
        out = model.generate(ids, attention_mask=mask, max_new_tokens=NEW, do_sample=False, pad_token_id=PAD,
                             eos_token_id=eos, use_cache=True, return_dict_in_generate=True)
        new = out.sequences[:, SEQ:].clone()
        gen[f"{case}/eos_token_ids"] = torch.tensor(eos)
        gen[f"{case}/tokens"] = new
        meta[case] = {"eos_token_id": eos, "tokens": new.tolist()}
    assert gen["eos1/tokens"].shape[1] == NEW, "eos1: row 1 must run to max_new_tokens"
    assert gen["eos2/tokens"].shape[1] < NEW, "eos2: both rows must finish early"
    g = torch.Generator().manual_seed(11)
    logits = {"random": torch.randn(4, VOCAB, generator=g) * 3,
              "ties": (torch.randn(4, VOCAB, generator=g) * 2).round()}
    for lname, scores in logits.items():
        gen[f"warp/{lname}/scores"] = scores
        for sname, t, k, p in WARPER_SETTINGS:
            gen[f"warp/{lname}/{sname}"] = warp(scores, t, k, p)
    doc["generation"] = {
        "generate": "model.generate(input_ids, attention_mask=attention_mask, max_new_tokens=6, do_sample=False, "
                    "pad_token_id=0, eos_token_id=<case>/eos_token_ids, use_cache=True); <case>/tokens = "
                    "sequences[:, 7:] (tiny-llama, golden's input_ids/attention_mask)",
        "eos_cases": meta,
        "warpers": "LogitsProcessorList([TemperatureLogitsWarper(t) if t != 1, TopKLogitsWarper(k, "
                   "min_tokens_to_keep=1) if k, TopPLogitsWarper(p, min_tokens_to_keep=1) if p < 1])(ids, scores); "
                   "filtered entries are -inf",
        "warper_settings": {n: {"temperature": t, "top_k": k, "top_p": p} for n, t, k, p in WARPER_SETTINGS},
        "warp_inputs": "random = 3 N(0,1) [4, 96]; ties = round(2 N(0,1)) [4, 96] (many equal values), "
                       "torch.Generator().manual_seed(11)",
    }
    save_file({k: v.contiguous() for k, v in gen.items()}, "generation.safetensors.tmp", metadata={"format": "pt"})
    os.replace("generation.safetensors.tmp", "generation.safetensors")
    doc["generation.safetensors"] = {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")}
                                     for k, v in gen.items()}
    for case in cases:
        print(case, meta[case])


def write_readme(golden, doc):
    lines = [
        "# Decoder-only (causal LM) golden fixtures",
        "",
        f"Generated by `src-test-fixtures/parity/decoders.py` with torch {torch.__version__.split('+')[0]}, "
        f"transformers {transformers.__version__}, peft {peft.__version__}. Do not edit by hand. `cases.json` "
        "documents every tensor of `golden.safetensors` and the exact transformers calls.",
        "",
        "* `tiny-llama/`: `LlamaForCausalLM`, vocab 96, hidden 32, intermediate 48, 2 layers, 4 attention heads, "
        "2 key/value heads (GQA, head_dim 8), rope_theta 1e4, rms_norm_eps 1e-6, untied lm_head, no biases; "
        "initializer_range 0.2, every RMSNorm weight 1 + 0.1 N(0,1).",
        "* `tiny-llama-rope-llama3/`: the same weights (same seed) with `rope_scaling` "
        f"`{json.dumps(ROPE_LLAMA3)}` and max_position_embeddings {ROPE_LLAMA3_MAX_POS} (transformers wants it "
        "above original_max_position_embeddings; nothing depends on it); original_max_position_embeddings 64 puts "
        f"the 4 RoPE pairs (inv_freq 1, 0.1, 0.01, 0.001) into the llama3 branches "
        f"{doc['rope_llama3_branches_per_pair']}.",
        "* `tiny-llama-tied/`: as tiny-llama with `tie_word_embeddings: true` (other seed): the file has no "
        "`lm_head.weight`, logits = h E^T with E = `model.embed_tokens.weight`.",
        "* `tiny-qwen2/`: `Qwen2ForCausalLM`, same sizes, rope_theta 1e6, tied embeddings, q/k/v biases "
        "0.2 N(0,1) (o_proj and MLP have none), `use_sliding_window: false`.",
        "* `peft-lora/`: PEFT LoRA on `tiny-llama`, r=4, lora_alpha=8 (scaling 2), q_proj,v_proj, CAUSAL_LM, "
        "`init_lora_weights=False` (A and B nn.Linear default init, B != 0). Model-card README.md deleted.",
        "* `peft-delora/`: PEFT DeLoRA on `tiny-llama`, r=4, delora_lambda=12, q_proj,v_proj,up_proj, CAUSAL_LM, "
        "delora_B N(0,1), each module's lambda moved to U[9, 15]. Model-card README.md deleted.",
        "* All forwards float32, `attn_implementation=\"eager\"`, eval mode unless stated. Token ids: pad 0, bos 1, "
        "eos 2; inputs use ids 3..95 only.",
        "",
        "## golden.safetensors",
        "",
        "| key | shape | dtype |",
        "|---|---|---|",
    ]
    lines += [f"| `{k}` | {list(v.shape)} | {str(v.dtype).replace('torch.', '')} |" for k, v in golden.items()]
    lines += ["", f"input_ids = `{golden['tiny-llama/input_ids'].tolist()}`, labels = `{golden['labels'].tolist()}`",
              ""]
    lines += ["## generation.safetensors", "",
              "tiny-llama `generate` with `eos_token_id` (greedy, pad_token_id 0; `eos1`: row 0's 4th greedy token, "
              "`eos2`: that and row 1's 2nd) and transformers' Temperature/TopK/TopP warpers on random logits; "
              "see `cases.json` `generation`.", "",
              "| key | shape | dtype |", "|---|---|---|"]
    lines += [f"| `{k}` | {v['shape']} | {v['dtype']} |" for k, v in doc["generation.safetensors"].items()]
    lines += ["", f"eos cases: `{json.dumps(doc['generation']['eos_cases'])}`", ""]
    for name in MODELS:
        with open(os.path.join(name, "config.json")) as f:
            cfg = f.read().strip()
        with open(os.path.join(name, "generation_config.json")) as f:
            gcfg = f.read().strip()
        meta, rows = describe_safetensors(os.path.join(name, "model.safetensors"))
        lines += [f"## {name}/", "", f"greedy_tokens = `{golden[name + '/greedy_tokens'].tolist()}`", "",
                  "config.json:", "", "```json", cfg, "```", "", "generation_config.json:", "", "```json", gcfg,
                  "```", "", f"model.safetensors (metadata `{json.dumps(meta)}`):", "",
                  "| key | shape | dtype |", "|---|---|---|"]
        lines += [f"| `{k}` | {s} | {d} |" for k, s, d in rows]
        lines.append("")
    for kind in ADAPTERS:
        meta, rows = describe_safetensors(os.path.join(kind, "adapter_model.safetensors"))
        with open(os.path.join(kind, "adapter_config.json")) as f:
            cfg = f.read().strip()
        lines += [f"## {kind}/adapter_model.safetensors", "", f"safetensors metadata: `{json.dumps(meta)}`", "",
                  "| key | shape | dtype |", "|---|---|---|"]
        lines += [f"| `{k}` | {s} | {d} |" for k, s, d in rows]
        lines += ["", f"## {kind}/adapter_config.json", "", "```json", cfg, "```", ""]
    with open("README.md.tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace("README.md.tmp", "README.md")


def main():
    os.makedirs(OUT, exist_ok=True)
    os.chdir(OUT)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # same reduction order on every run
    doc = {
        "generator": "src-test-fixtures/parity/decoders.py", "peft_version": peft.__version__,
        "torch_version": torch.__version__.split("+")[0], "transformers_version": transformers.__version__,
        "dtype": "float32", "attn_implementation": ATTN, "pad_token_id": PAD, "bos_token_id": BOS,
        "eos_token_id": EOS,
        "calls": {
            "load": "AutoModelForCausalLM.from_pretrained(<folder>, attn_implementation='eager').eval()",
            "logits": "model(input_ids=input_ids, attention_mask=attention_mask).logits  # no position_ids",
            "logits_positions": "model(input_ids=input_ids, attention_mask=attention_mask, "
                                "position_ids=position_ids).logits",
            "generate": "model.generate(input_ids, attention_mask=attention_mask, max_new_tokens=6, do_sample=False, "
                        "pad_token_id=0, eos_token_id=None, use_cache=<True|False>, output_logits=True, "
                        "return_dict_in_generate=True)",
            "peft_eval": "PeftModel.from_pretrained(load('tiny-llama'), '<adapter folder>').eval()(input_ids=..., "
                         "attention_mask=...).logits",
            "peft_grad": "m = PeftModel.from_pretrained(load('tiny-llama'), '<adapter folder>', is_trainable=True); "
                         "m.train(); m(input_ids=..., attention_mask=..., labels=labels).loss.backward()",
        },
        "notes": {
            "positions_without_position_ids": "transformers uses cache_position = arange(seq) as position_ids for "
                                              "every row, ignoring left padding (row 1's first real token is at "
                                              "position 2)",
            "positions_in_generate": "GenerationMixin computes position_ids = attention_mask.cumsum(-1) - 1, "
                                     "masked_fill_(attention_mask == 0, 1), each step on the grown mask (with the "
                                     "KV cache only the last column is fed)",
            "position_shift_invariance": "logits_positions equals logits up to float rounding (< 1e-5, asserted; "
                                         "models.<M>.max_abs_diff_logits_vs_logits_positions): RoPE only sees q-k "
                                         "position differences, real queries never see pad keys, and pad queries "
                                         "attend uniformly to all keys (V has no position). So a left-padding "
                                         "position offset cannot be detected from these logits; the KV-cache "
                                         "generate steps check that prefill and decode positions are consistent",
            "eager_mask": "additive float mask: 0 where causal (kv <= q) AND attention_mask[kv] == 1, "
                          "torch.finfo(float32).min elsewhere; added to QK^T/sqrt(head_dim) then softmax in float32",
            "fully_masked_rows": "row 1's pad queries (t = 0, 1) see min on every key; score + min rounds to min, so "
                                 "softmax is uniform 1/7 over ALL keys, future ones included (asserted). Their "
                                 "logits are in `logits`/`logits_positions` as transformers produces them; compare "
                                 "only attention_mask == 1 positions if the Java side treats pad queries differently",
            "eos": "eos_token_id=None disables the EOS stopping criterion, so all 6 tokens are always produced "
                   "(asserted: sequences are [2, 13]); generation_config.json still says eos 2. "
                   "models.<M>.eos_in_greedy_tokens says whether token 2 was generated (false everywhere: the seeds were "
                   "picked so that no 0/1/2 is generated, asserted, so stopping at eos 2 would give the same tokens)",
            "greedy_margin": f"every step's top-1 minus top-2 logit is > {MIN_GREEDY_GAP} (asserted)",
            "gqa": "num_key_value_heads 2 of 4 heads: k/v heads are repeated (repeat_kv: kv head j serves query "
                   "heads 2j, 2j+1)",
            "rope": "rotate_half convention: q' = q cos + rotate_half(q) sin, rotate_half(x) = cat(-x[4:], x[:4]) "
                    "per head, cos/sin = cat(freqs, freqs), freqs = position * inv_freq",
            "rope_llama3": "inv_freq' = inv_freq where wavelen < orig/high_freq_factor; inv_freq/factor where "
                           "wavelen > orig/low_freq_factor; else (1-s) inv_freq/factor + s inv_freq with "
                           "s = (orig/wavelen - low)/(high - low); wavelen = 2 pi / inv_freq; attention_factor 1",
            "tied": "tie_word_embeddings true: save_pretrained omits lm_head.weight; lm_head uses "
                    "model.embed_tokens.weight",
            "qwen2": "Qwen2Attention: q/k/v Linear with bias, o_proj without; otherwise the Llama decoder "
                     "(RMSNorm, SwiGLU MLP, rotate_half RoPE)",
        },
        "models": {}, "adapters": {},
    }
    for d in ADAPTERS:
        shutil.rmtree(d, ignore_errors=True)
    golden = {}
    ids, mask = model_part(golden, doc)
    adapter_part(golden, doc, ids, mask)
    generation_part(golden, doc)
    golden = {k: (v.to(torch.int64) if v.dtype in (torch.int32, torch.int64) else v.to(torch.float32)).contiguous()
              for k, v in golden.items()}
    save_file(golden, "golden.safetensors.tmp", metadata={"format": "pt"})
    os.replace("golden.safetensors.tmp", "golden.safetensors")
    doc["golden.safetensors"] = tensor_doc(golden)
    with open("cases.json.tmp", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace("cases.json.tmp", "cases.json")
    write_readme(golden, doc)
    for k, v in golden.items():
        print(f"{k} {list(v.shape)} {str(v.dtype).replace('torch.', '')}")
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(".") for f in fs)
    print("wrote", OUT, f"{total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
