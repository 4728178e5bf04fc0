"""The Java `gsm8k` command's run, with transformers + PEFT, for the side-by-side numbers in docs/results.md.

It mirrors examples' Gsm8kRunner step for step, so that the two runs differ only in the implementation:
- the same problems (the first N of train.jsonl, the first M of test.jsonl; by default the sample embedded in
  examples) and the same batch order (java.util.Random(seed) + Collections.shuffle, re-implemented below);
- the prompt from the tokenizer's chat template (`apply_chat_template(add_generation_prompt=True)`), the answer + the
  `<|im_end|>` id as the response, labels -100 over the prompt, the same left-of-prompt truncation;
- the same adapter weights at the start: `--init-adapter` is the `adapter_initial/` folder the Java run saved, loaded
  with `PeftModel.from_pretrained(is_trainable=True)`;
- AdamW (betas 0.9/0.999, eps 1e-8, no weight decay), lr decayed linearly to 0 without warmup, one step per batch,
  loss = mean cross entropy over the counted (response) tokens of the batch;
- held-out loss = mean over every counted token; greedy `generate` on left-padded prompt batches with the same eos and
  pad ids, decoded up to the first eos without special tokens; exact match of the final `#### N` with the flexible
  fallback (Gsm8kAnswers).

Usage (after the Java run wrote runs/gsm8k-lora/adapter_initial):
  python gsm8k_peft.py --model /path/smollm2-hf --init-adapter runs/gsm8k-lora/adapter_initial \
      --train-samples 256 --eval-samples 64 --batch-size 8 --lr 1e-3 --output runs/gsm8k-lora-peft
Writes summary.json with the same keys as the Java run.
"""

import argparse
import json
import math
import os
import re
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = Path(__file__).resolve().parent
EMBEDDED = HERE.parent.parent / "examples/src/main/resources/dev/delora/examples/data/gsm8k"
IGNORE = -100


class JavaRandom:
    """java.util.Random: the 48-bit LCG, next(bits) and nextInt(bound)."""

    MULT = 0x5DEECE66D
    MASK = (1 << 48) - 1

    def __init__(self, seed):
        self.seed = (seed ^ self.MULT) & self.MASK

    def next(self, bits):
        self.seed = (self.seed * self.MULT + 0xB) & self.MASK
        r = (self.seed >> (48 - bits)) & 0xFFFFFFFF  # Java's (int) cast of the top bits
        return r - (1 << 32) if r >= 1 << 31 else r

    def next_int(self, bound):
        if bound & -bound == bound:
            return (bound * self.next(31)) >> 31
        while True:
            bits = self.next(31)
            val = bits % bound
            if bits - val + (bound - 1) < (1 << 31):
                return val


def java_shuffle(items, rnd):
    """Collections.shuffle(list, rnd) for a RandomAccess list."""
    out = list(items)
    for i in range(len(out), 1, -1):
        j = rnd.next_int(i)
        out[i - 1], out[j] = out[j], out[i - 1]
    return out


STRICT = re.compile(r"####\s*\$?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)")
NUMBER = re.compile(r"-?\$?[0-9][0-9,]*(?:\.[0-9]+)?")


def normalise(number):
    s = number.strip().replace(",", "").replace("$", "")
    if s.endswith("."):
        s = s[:-1]
    try:
        d = Decimal(s).normalize()
    except InvalidOperation as e:
        raise ValueError(f"not a number: '{number}'") from e
    return "0" if d == 0 else format(d, "f")


def final_number(text, flexible):
    found = STRICT.findall(text)
    if found:
        return normalise(found[-1])
    if flexible:
        found = NUMBER.findall(text)
        if found:
            return normalise(found[-1])
    return None


def matches(generation, reference):
    want = final_number(reference, False)
    return want is not None and want == final_number(generation, True)


def read_jsonl(path, limit):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) == limit:
                break
    return rows


def example(prompt, response, eos, max_length):
    """CausalLmExamples.example with Truncation.LEFT_OF_PROMPT."""
    answer = response + [eos]
    kept = prompt
    if len(prompt) + len(answer) > max_length:
        keep = max(1, max_length - len(answer))
        kept = prompt[len(prompt) - keep:]
        answer = answer[: max_length - keep]
    return kept + answer, [IGNORE] * len(kept) + answer


def training_batch(rows, pad):
    width = max(len(ids) for ids, _ in rows)
    ids = [r[0] + [pad] * (width - len(r[0])) for r in rows]
    mask = [[1] * len(r[0]) + [0] * (width - len(r[0])) for r in rows]
    labels = [r[1] + [IGNORE] * (width - len(r[1])) for r in rows]
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(labels)


def loss_of(logits, labels):
    """CausalLmLoss: mean next-token cross entropy over labels != -100."""
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(), labels[:, 1:].reshape(-1), ignore_index=IGNORE)


def counted(labels):
    return sum(1 for t in labels[1:] if t != IGNORE)


def batches(items, size):
    return [items[i: i + size] for i in range(0, len(items), size)]


def held_out_loss(model, examples, pad, batch_size):
    total, count = 0.0, 0
    with torch.no_grad():
        for rows in batches(examples, batch_size):
            n = sum(counted(l) for _, l in rows)
            if n == 0:
                continue
            ids, mask, labels = training_batch(rows, pad)
            total += loss_of(model(input_ids=ids, attention_mask=mask).logits, labels).item() * n
            count += n
    return total / count if count else float("nan")


def evaluate(model, tok, prompts, examples, problems, eos_ids, pad, args):
    loss = held_out_loss(model, examples, pad, args.batch_size)
    generations, correct, generated, seconds = [], 0, 0, 0.0
    room = max(1, args.max_length - 1)
    for start in range(0, len(problems), args.batch_size):
        rows = [p[-room:] for p in prompts[start: start + args.batch_size]]
        width = max(len(r) for r in rows)
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.max_new_tokens,
                                 do_sample=False, eos_token_id=eos_ids, pad_token_id=pad)
        seconds += time.perf_counter() - t0
        for r, seq in enumerate(out[:, width:].tolist()):
            n = next((i for i, t in enumerate(seq) if t in eos_ids), None)
            generated += len(seq) if n is None else n + 1
            text = tok.decode(seq if n is None else seq[:n], skip_special_tokens=True)
            generations.append(text)
            correct += matches(text, problems[start + r]["answer"])
        print(f"  generated {len(generations)}/{len(problems)}", flush=True)
    return {"held_out_loss": loss, "exact_match": correct / len(problems), "correct": correct,
            "generated_tokens": generated, "generation_seconds": seconds,
            "generation_tokens_per_s": generated / seconds}, generations


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--init-adapter", required=True, help="adapter_initial/ of the Java run")
    p.add_argument("--data-dir", default=str(EMBEDDED))
    p.add_argument("--train-samples", type=int, default=256)
    p.add_argument("--eval-samples", type=int, default=32)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--max-length", type=int, default=512)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--attn-implementation", default="sdpa", choices=["sdpa", "eager"],
                   help="transformers' attention: sdpa (its default on CPU, a fused kernel) or eager (softmax(QK^T)V "
                        "with the scores materialised, as delora4j computes it)")
    p.add_argument("--output", required=True)
    args = p.parse_args()
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    tok = AutoTokenizer.from_pretrained(args.model)
    config = json.loads((Path(args.model) / "config.json").read_text())
    gen_file = Path(args.model) / "generation_config.json"
    gen = json.loads(gen_file.read_text()) if gen_file.exists() else config
    eos_ids = gen.get("eos_token_id")
    eos_ids = [] if eos_ids is None else [eos_ids] if isinstance(eos_ids, int) else list(eos_ids)
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    if im_end not in eos_ids:
        eos_ids.append(im_end)
    pad = gen.get("pad_token_id") if gen.get("pad_token_id") is not None else eos_ids[0]

    def prompt_ids(question):
        text = tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                       tokenize=False)
        return tok(text, add_special_tokens=False).input_ids

    def to_example(problem):
        answer = tok(problem["answer"], add_special_tokens=False).input_ids
        return example(prompt_ids(problem["question"]), answer, im_end, args.max_length)

    train = read_jsonl(Path(args.data_dir) / "train.jsonl", args.train_samples)
    test = read_jsonl(Path(args.data_dir) / "test.jsonl", args.eval_samples)
    train_ex = [to_example(q) for q in train]
    test_ex = [to_example(q) for q in test]
    test_prompts = [prompt_ids(q["question"]) for q in test]

    base = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32,
                                                attn_implementation=args.attn_implementation)
    model = PeftModel.from_pretrained(base, args.init_adapter, is_trainable=True)
    trainable = [q for q in model.parameters() if q.requires_grad]
    print(f"gsm8k (PEFT) | {len(train)} train, {len(test)} test problems | "
          f"trainable {sum(q.numel() for q in trainable):,}", flush=True)

    model.eval()
    train_before = held_out_loss(model, train_ex, pad, args.batch_size)
    before, _ = evaluate(model, tok, test_prompts, test_ex, test, eos_ids, pad, args)
    print(f"before training: {before}, train loss {train_before:.4f}", flush=True)

    optimizer = torch.optim.AdamW(trainable, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    steps_per_epoch = math.ceil(len(train_ex) / args.batch_size)
    total = steps_per_epoch * args.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: max(0.0, (total - t) / total))
    rnd = JavaRandom(args.seed)
    model.train()  # dropout as configured in the adapter (0 in the gsm8k defaults)
    epoch_losses, step_losses, step = [], [], 0
    train_start = time.perf_counter()
    for epoch in range(args.epochs):
        losses = []
        for rows in batches(java_shuffle(train_ex, rnd), args.batch_size):
            ids, mask, labels = training_batch(rows, pad)
            loss = loss_of(model(input_ids=ids, attention_mask=mask).logits, labels)
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step_losses.append(loss.item())
            step += 1
            if step % max(1, args.train_samples // args.batch_size // 4) == 0 or step == total:
                print(f"step {step}/{total}  loss {sum(losses) / len(losses):.4f}", flush=True)
        epoch_losses.append(sum(losses) / len(losses))
    train_seconds = time.perf_counter() - train_start
    model.eval()
    train_tokens = sum(len(ids) for ids, _ in train_ex) * args.epochs
    train_after = held_out_loss(model, train_ex, pad, args.batch_size)
    after, generations = evaluate(model, tok, test_prompts, test_ex, test, eos_ids, pad, args)
    print(f"after training: {after}, train loss {train_after:.4f}", flush=True)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out / "adapter")
    summary = {
        "implementation": f"transformers {__import__('transformers').__version__} + peft "
                          f"{__import__('peft').__version__}, torch {torch.__version__}, {args.threads} threads",
        "model": str(Path(args.model).resolve()), "settings": vars(args), "train_problems": len(train),
        "eval_problems": len(test), "steps": step, "epoch_train_loss": epoch_losses, "step_losses": step_losses,
        "train_seconds": train_seconds, "train_tokens": train_tokens,
        "train_tokens_per_s": train_tokens / train_seconds, "train_loss_before": train_before,
        "train_loss_after": train_after, "before": before, "after": after, "generations_after": generations,
        "seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"results: {out / 'summary.json'}")


if __name__ == "__main__":
    main()
