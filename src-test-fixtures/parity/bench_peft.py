"""PyTorch + PEFT side of the delora4j benchmark (docs/benchmarks.md); writes JSON that BenchmarkMain --peft reads.

Not a fixture script: it writes no golden vectors, only timings and memory. Same shapes, dtype (float32), thread
counts, warm-up and median-of-N as dev.delora.benchmarks.BenchmarkMain, and the same JSON schema:

  layer.<method>.median_ms                        Linear(768->768) forward + sum + backward, x [32,128,768] requires grad
  train.<batch>.<method>.{step_ms, samples_per_s, peak_rss_mb, infer_ms | infer_unmerged_ms, infer_merged_ms, merge_ms}
  soak.rss_mb.<step>                              VmRSS during a long training run (optional, --soak-steps)

Methods: base (frozen encoder; head + embedding LayerNorm trained), lora (PEFT LoraConfig), delora (PEFT DeloraConfig,
its only init: B = 0). LoRA-XS and SoRA have no PEFT implementation and are not run. Every configuration runs in a
fresh interpreter (this script re-executed with --child) so each VmHWM belongs to one configuration.

  .venv/bin/python src-test-fixtures/parity/bench_peft.py --out results-peft.json
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

METHODS = ["base", "lora", "delora"]


def rss_mb(field):
    # same source and units as dev.delora.benchmarks.Rss: /proc/self/status, kB -> MiB
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no " + field + " in /proc/self/status")


def median_ms(warmup, iterations, fn):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def setup_torch(args):
    import torch
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.interop_threads)
    torch.manual_seed(42)
    return torch


def peft_config(method, r, targets, seq_cls):
    from peft import DeloraConfig, LoraConfig
    task = {"task_type": "SEQ_CLS"} if seq_cls else {}
    if method == "lora":
        return LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, target_modules=targets, **task)
    if method == "delora":
        return DeloraConfig(r=r, delora_lambda=15, module_dropout=0.0, target_modules=targets, **task)
    raise ValueError(method)


def child_layer(args):
    torch = setup_torch(args)
    from peft import get_peft_model
    out = {}
    for method in METHODS:
        torch.manual_seed(42)
        net = torch.nn.Sequential(torch.nn.Linear(768, 768))
        torch.nn.init.normal_(net[0].weight, std=0.02)
        net.requires_grad_(False)
        layer = net if method == "base" else get_peft_model(net, peft_config(method, args.rank, ["0"], False))
        x = torch.randn(32, 128, 768, requires_grad=True)

        def step():
            layer(x).sum().backward()

        ms = median_ms(3 + args.warmup, args.layer_iterations, step)
        out[method] = {"median_ms": ms}
        print(f"[peft]   {method:<13} {ms:8.2f} ms", file=sys.stderr)
    return out


def build_encoder(args, method, layers, batch, seq):
    torch = setup_torch(args)
    from peft import get_peft_model
    from transformers import RobertaConfig, RobertaForSequenceClassification
    # FacebookAI/roberta-base's config.json, random weights (transformers' init, std 0.02)
    cfg = RobertaConfig(vocab_size=50265, hidden_size=768, num_hidden_layers=layers, num_attention_heads=12,
                        intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1,
                        attention_probs_dropout_prob=0.1, max_position_embeddings=514, type_vocab_size=1,
                        initializer_range=0.02, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        num_labels=2, attn_implementation=args.attn)
    model = RobertaForSequenceClassification(cfg)
    if method == "base":
        model.requires_grad_(False)
        for name, p in model.named_parameters():
            if name.startswith("classifier.") or name.startswith("roberta.embeddings.LayerNorm."):
                p.requires_grad_(True)
    else:
        model = get_peft_model(model, peft_config(method, args.rank, ["query", "value"], True))
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)
    g = torch.Generator().manual_seed(42)
    ids = torch.randint(4, cfg.vocab_size, (batch, seq), generator=g)
    mask = torch.ones(batch, seq, dtype=torch.long)
    labels = torch.randint(0, 2, (batch,), generator=g)

    def train_step():
        model.train()
        logits = model(input_ids=ids, attention_mask=mask).logits
        loss = torch.nn.functional.cross_entropy(logits, labels)
        loss.item()
        loss.backward()
        opt.step()
        opt.zero_grad()

    def infer_step():
        model.eval()
        with torch.inference_mode():
            model(input_ids=ids, attention_mask=mask).logits.tolist()

    return torch, model, trainable, train_step, infer_step


def child_train(args):
    torch, model, trainable, train_step, infer_step = build_encoder(args, args.method, args.layers, args.batch,
                                                                    args.seq)
    r = {"trainable_params": sum(p.numel() for p in trainable)}
    step = median_ms(args.warmup, args.train_iterations, train_step)
    r["step_ms"] = step
    r["samples_per_s"] = args.batch * 1000.0 / step
    r["peak_rss_mb"] = rss_mb("VmHWM:")
    infer = median_ms(args.warmup, args.infer_iterations, infer_step)
    if args.method == "base":
        r["infer_ms"] = infer
    else:
        r["infer_unmerged_ms"] = infer
        merges = []
        for _ in range(args.merge_iterations):
            t0 = time.perf_counter()
            model.merge_adapter()
            merges.append((time.perf_counter() - t0) * 1000)
            model.unmerge_adapter()
        r["merge_ms"] = statistics.median(merges)
        model.merge_adapter()
        r["infer_merged_ms"] = median_ms(args.warmup, args.infer_iterations, infer_step)
    r["peak_rss_end_mb"] = rss_mb("VmHWM:")
    print("[peft]   " + json.dumps(r), file=sys.stderr)
    return r


def child_soak(args):
    t0 = time.perf_counter()
    _, _, _, train_step, _ = build_encoder(args, args.soak_method, args.soak_layers, args.soak_batch, args.soak_seq)
    rss = {}
    for step in range(1, args.soak_steps + 1):
        train_step()
        if step in (1, 10) or step % 100 == 0 or step == args.soak_steps:
            rss[str(step)] = rss_mb("VmRSS:")
            if step % 100 == 0:
                print(f"[peft]   step {step}: RSS {rss[str(step)]:.1f} MiB", file=sys.stderr)
    return {"method": args.soak_method, "layers": args.soak_layers, "batch": args.soak_batch, "seq": args.soak_seq,
            "rss_mb": rss, "seconds": time.perf_counter() - t0}


def common(args):
    return ["--threads", str(args.threads), "--interop-threads", str(args.interop_threads), "--warmup",
            str(args.warmup), "--layer-iterations", str(args.layer_iterations), "--train-iterations",
            str(args.train_iterations), "--infer-iterations", str(args.infer_iterations), "--merge-iterations",
            str(args.merge_iterations), "--seq", str(args.seq), "--layers", str(args.layers), "--rank",
            str(args.rank), "--attn", args.attn, "--soak-steps", str(args.soak_steps), "--soak-layers",
            str(args.soak_layers), "--soak-batch", str(args.soak_batch), "--soak-seq", str(args.soak_seq),
            "--soak-method", args.soak_method]


def fork(args, extra):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, os.path.abspath(__file__)] + common(args) + extra
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        raise SystemExit(f"child {extra} failed (exit {p.returncode})")
    return json.loads(lines[-1][len("RESULT "):])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results-peft.json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--interop-threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--layer-iterations", type=int, default=20)
    ap.add_argument("--train-iterations", type=int, default=3)
    ap.add_argument("--infer-iterations", type=int, default=3)
    ap.add_argument("--merge-iterations", type=int, default=5)
    ap.add_argument("--batches", default="8,32")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"],
                    help="transformers attention implementation (default sdpa, transformers' own default)")
    ap.add_argument("--sections", default="layer,train")
    ap.add_argument("--soak-steps", type=int, default=1000)
    ap.add_argument("--soak-layers", type=int, default=2)
    ap.add_argument("--soak-batch", type=int, default=4)
    ap.add_argument("--soak-seq", type=int, default=64)
    ap.add_argument("--soak-method", default="delora", choices=["lora", "delora"])
    ap.add_argument("--child", choices=["layer", "train", "soak"])
    ap.add_argument("--method", choices=METHODS)
    ap.add_argument("--batch", type=int)
    args = ap.parse_args()
    if args.child:
        result = {"layer": child_layer, "train": child_train, "soak": child_soak}[args.child](args)
        print("RESULT " + json.dumps(result))
        return
    import peft
    import torch
    import transformers
    sections = args.sections.split(",")
    out = {"meta": {"date": datetime.datetime.now().astimezone().isoformat(), "python": platform.python_version(),
                    "torch": torch.__version__, "peft": peft.__version__, "transformers": transformers.__version__,
                    "threads": args.threads, "interop_threads": args.interop_threads, "attn": args.attn,
                    "warmup": args.warmup, "train_iterations": args.train_iterations, "seq": args.seq,
                    "layers": args.layers, "rank": args.rank,
                    "not_run": "loraxs, sora, delora-paper: no PEFT implementation"}}
    if "layer" in sections:
        print("[peft] section 1: adapted Linear", file=sys.stderr)
        out["layer"] = fork(args, ["--child", "layer"])
    if "train" in sections:
        out["train"] = {}
        for b in [int(s) for s in args.batches.split(",")]:
            out["train"][str(b)] = {}
            for m in METHODS:
                print(f"[peft] section 2: {m}, batch {b}", file=sys.stderr)
                out["train"][str(b)][m] = fork(args, ["--child", "train", "--method", m, "--batch", str(b)])
    if "soak" in sections:
        print(f"[peft] memory over {args.soak_steps} steps", file=sys.stderr)
        out["soak"] = fork(args, ["--child", "soak"])
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=2)
    os.replace(tmp, args.out)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
