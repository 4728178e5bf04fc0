"""Golden fixtures for the Hugging Face encoders of delora-djl (fixture set `hf/`).

Writes tiny random BERT / RoBERTa sequence-classification checkpoints as Hugging Face folders, a bf16 copy and a
2-shard copy of the BERT one, a bare BertModel checkpoint (keys without the `bert.` prefix), a tiny WordPiece
tokenizer.json, safetensors dtype samples, and the reference outputs of transformers (eval mode, eager attention)
on fixed padded inputs.

Run: .venv/bin/python src-test-fixtures/parity/hf_models.py
"""
import copy
import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import (BertConfig, BertForSequenceClassification, BertModel, PreTrainedTokenizerFast,
                          RobertaConfig, RobertaForSequenceClassification)

OUT = Path(__file__).resolve().parent.parent / "src/main/resources/dev/delora/fixtures/hf"
torch.manual_seed(1234)

COMMON = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
              max_position_embeddings=40, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
              attn_implementation="eager")


def perturb(model):
    # HF's default init (std 0.02, LayerNorm = 1/0) makes many mistakes invisible; widen every tensor instead.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))


def save_folder(model, name, **kw):
    d = OUT / name
    if d.exists():
        shutil.rmtree(d)
    model.save_pretrained(d, safe_serialization=True, **kw)
    return d


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    golden = {}

    # ---- tiny WordPiece tokenizer (BERT style) ----
    words = ["the", "a", "cat", "dog", "sat", "on", "mat", "is", "good", "bad", "movie", "not", "very", "and",
             "it", "was", "fun", "run", "##s", "##ing", "##ed", "play", "fine", "tune", "low", "rank", "java", "."]
    letters = list("abcdefghijklmnopqrstuvwxyz")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + letters + ["##" + c for c in letters]
    vocab = list(dict.fromkeys(vocab))
    assert len(vocab) <= 100, len(vocab)
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab.index("[CLS]")), ("[SEP]", vocab.index("[SEP]"))])
    tok_dir = OUT / "tokenizer"
    tok_dir.mkdir()
    tok.save(str(tok_dir / "tokenizer.json"))
    fast = PreTrainedTokenizerFast(tokenizer_file=str(tok_dir / "tokenizer.json"), unk_token="[UNK]",
                                   pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    singles = ["The cat sat on the mat.", "A very good movie", "Java runs fine", "It was not fun and it was bad."]
    pairs = [["The cat sat.", "The dog runs on the mat and it was fun."],
             ["Low rank tuning is good and very fun to play.", "Java."],
             ["A movie", "A dog"]]
    max_len = 12
    enc_s = fast(singles, truncation=True, max_length=max_len, padding="longest")
    enc_p = fast([p[0] for p in pairs], [p[1] for p in pairs], truncation="longest_first", max_length=max_len,
                 padding="longest")
    enc_pm = fast([p[0] for p in pairs], [p[1] for p in pairs], truncation="longest_first", max_length=max_len,
                  padding="max_length")
    (OUT / "tokenizer_golden.json").write_text(json.dumps({
        "max_length": max_len,
        "singles": {"text": singles, "input_ids": enc_s["input_ids"], "attention_mask": enc_s["attention_mask"],
                    "token_type_ids": enc_s["token_type_ids"]},
        "pairs": {"text": pairs, "input_ids": enc_p["input_ids"], "attention_mask": enc_p["attention_mask"],
                  "token_type_ids": enc_p["token_type_ids"]},
        "pairs_max_length": {"input_ids": enc_pm["input_ids"], "attention_mask": enc_pm["attention_mask"],
                             "token_type_ids": enc_pm["token_type_ids"]},
    }, indent=1))

    # ---- fixed padded inputs ----
    bert_ids = torch.tensor([[2, 7, 12, 40, 55, 9, 3, 0, 0],
                             [2, 33, 5, 61, 3, 80, 99, 3, 0],
                             [2, 18, 19, 20, 21, 22, 23, 24, 3]], dtype=torch.long)
    bert_mask = (bert_ids != 0).long()
    bert_types = torch.tensor([[0] * 9, [0, 0, 0, 0, 0, 1, 1, 1, 0], [0] * 9], dtype=torch.long)
    rob_ids = torch.tensor([[0, 7, 12, 40, 55, 9, 2, 1, 1],
                            [0, 33, 5, 61, 2, 2, 99, 2, 1],
                            [0, 18, 19, 20, 21, 22, 23, 24, 2]], dtype=torch.long)
    rob_mask = (rob_ids != 1).long()

    # ---- BERT classification (3 labels) ----
    bert_cfg = BertConfig(**COMMON, type_vocab_size=2, num_labels=3, pad_token_id=0)
    bert = BertForSequenceClassification(bert_cfg).eval()
    perturb(bert)
    bert_dir = save_folder(bert, "tiny-bert")
    shutil.copy(tok_dir / "tokenizer.json", bert_dir / "tokenizer.json")
    with torch.no_grad():
        out = bert.bert(input_ids=bert_ids, attention_mask=bert_mask, token_type_ids=bert_types)
        logits = bert(input_ids=bert_ids, attention_mask=bert_mask, token_type_ids=bert_types).logits
    golden.update({"bert.input_ids": bert_ids, "bert.attention_mask": bert_mask, "bert.token_type_ids": bert_types,
                   "bert.last_hidden_state": out.last_hidden_state, "bert.pooler_output": out.pooler_output,
                   "bert.logits": logits})

    # sharded copy (2 shards + model.safetensors.index.json)
    sh = save_folder(bert, "tiny-bert-sharded", max_shard_size="60KB")
    shards = sorted(p.name for p in sh.glob("model-*.safetensors"))
    assert len(shards) == 2, shards
    assert (sh / "model.safetensors.index.json").exists()

    # bf16 copy; its reference logits use the bf16-rounded weights computed in float32
    bf = save_folder(copy.deepcopy(bert).to(torch.bfloat16), "tiny-bert-bf16")
    bert_bf = BertForSequenceClassification.from_pretrained(bf, torch_dtype=torch.float32,
                                                            attn_implementation="eager").eval()
    with torch.no_grad():
        golden["bert_bf16.logits"] = bert_bf(input_ids=bert_ids, attention_mask=bert_mask,
                                             token_type_ids=bert_types).logits

    # bare BertModel checkpoint (keys "embeddings.*", like all-MiniLM-L6-v2) and what transformers reports when a
    # classification model is loaded from it
    save_folder(bert.bert, "tiny-bert-base")
    _, info = BertForSequenceClassification.from_pretrained(OUT / "tiny-bert-base", num_labels=3,
                                                            attn_implementation="eager", output_loading_info=True)
    loading = {"base_into_classifier": {k: sorted(v) for k, v in info.items() if k in ("missing_keys",
                                                                                        "unexpected_keys")}}
    _, info2 = BertModel.from_pretrained(bert_dir, attn_implementation="eager", output_loading_info=True)
    loading["classifier_into_base"] = {k: sorted(v) for k, v in info2.items() if k in ("missing_keys",
                                                                                       "unexpected_keys")}
    (OUT / "loading_info.json").write_text(json.dumps(loading, indent=1))

    # ---- RoBERTa classification (2 labels) and regression (1 label) ----
    rob_cfg = RobertaConfig(**COMMON, type_vocab_size=1, num_labels=2, pad_token_id=1, bos_token_id=0,
                            eos_token_id=2)
    rob = RobertaForSequenceClassification(rob_cfg).eval()
    perturb(rob)
    save_folder(rob, "tiny-roberta")
    with torch.no_grad():
        out = rob.roberta(input_ids=rob_ids, attention_mask=rob_mask)
        logits = rob(input_ids=rob_ids, attention_mask=rob_mask).logits
    golden.update({"roberta.input_ids": rob_ids, "roberta.attention_mask": rob_mask,
                   "roberta.last_hidden_state": out.last_hidden_state, "roberta.logits": logits})

    reg_cfg = RobertaConfig(**COMMON, type_vocab_size=1, num_labels=1, pad_token_id=1, bos_token_id=0,
                            eos_token_id=2, classifier_dropout=0.2)
    reg = RobertaForSequenceClassification(reg_cfg).eval()
    perturb(reg)
    assert reg.config.num_labels == 1
    save_folder(reg, "tiny-roberta-regression")
    with torch.no_grad():
        golden["roberta_reg.logits"] = reg(input_ids=rob_ids, attention_mask=rob_mask).logits

    save_file({k: v.contiguous() for k, v in golden.items()}, str(OUT / "golden.safetensors"))

    # ---- module names as PEFT sees them ----
    names = {
        "roberta_linear": [n for n, m in rob.named_modules() if isinstance(m, torch.nn.Linear)],
        "bert_linear": [n for n, m in bert.named_modules() if isinstance(m, torch.nn.Linear)],
        "roberta_state_dict": list(rob.state_dict().keys()),
        "bert_state_dict": list(bert.state_dict().keys()),
    }
    (OUT / "module_names.json").write_text(json.dumps(names, indent=1))

    # ---- safetensors dtype samples: the same values in several dtypes, plus their exact float32 values ----
    base = torch.tensor([[0.0, -1.5, 3.14159, 1e-3], [65504.0, -2.0 ** -14, 1.0 / 3.0, 7.25]], dtype=torch.float32)
    dt = {"f16": base.to(torch.float16), "bf16": base.to(torch.bfloat16), "f32": base, "f64": base.double(),
          "i64": torch.tensor([[-3, 0, 2 ** 40]], dtype=torch.int64), "i32": torch.tensor([7, -8], dtype=torch.int32),
          "i8": torch.tensor([-128, 127], dtype=torch.int8), "u8": torch.tensor([0, 255], dtype=torch.uint8),
          "bool": torch.tensor([True, False, True]), "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3)}
    save_file(dt, str(OUT / "dtypes.safetensors"), metadata={"format": "pt", "note": "delora"})
    save_file({"f16": dt["f16"].float(), "bf16": dt["bf16"].float(), "f64": dt["f64"].float()},
              str(OUT / "dtypes_as_f32.safetensors"))

    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print("wrote", OUT, f"{total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
