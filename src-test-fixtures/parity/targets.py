"""Golden target-module selection and per-module r/alpha resolution, computed by PEFT itself.

Writes fixtures/targets/cases.json:

    {"peft_version": ..., "module_names": [...],
     "cases": [{"name": ..., "config": {peft field: value}, "targeted": [...],
                "resolved": {module: {"r": .., "alpha": ..}}}]}

* ``targeted`` is the list (in module_names order) of names for which
  ``peft.tuners.tuners_utils.check_target_module_exists(config, name)`` is truthy. An ``_ExcludedModule`` result
  (exclude_modules / modules_to_save hit) is falsy and therefore counts as not targeted.
* ``resolved`` gives, for every targeted name, r and alpha exactly as ``LoraModel._create_and_replace`` computes them
  (``get_pattern_key`` over ``rank_pattern`` / ``alpha_pattern``, falling back to ``r`` / ``lora_alpha``). For the
  DeLoRA case (config ``peft_type`` = ``DELORA``) the keys are ``r`` and ``lambda`` (``lambda_pattern`` /
  ``delora_lambda``, as in ``DeloraModel._create_and_replace``).
* ``config`` holds only the fields the case sets, with the values as passed to the PEFT config constructor (lists
  stay lists; PEFT itself turns list target/exclude modules into sets, which does not change matching).

Module names: every ``named_modules()`` name of a tiny 2-layer ``RobertaForSequenceClassification`` (the root module
"" is left out) plus synthetic names from other architectures and edge cases. As a cross-check, for every case
whose targeted RoBERTa modules are all ``nn.Linear``, the script also injects a real adapter with
``inject_adapter_in_model`` and asserts that PEFT wrapped exactly those modules with the resolved r.
"""
import copy
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # all inputs are local; never touch the Hub

import torch
from torch import nn
import peft
from peft import DeloraConfig, LoraConfig, inject_adapter_in_model
from peft.tuners.tuners_utils import check_target_module_exists
from peft.utils.other import get_pattern_key
from transformers import RobertaConfig, RobertaForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures", "targets")

torch.manual_seed(0)


def tiny_roberta():
    cfg = RobertaConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=37, max_position_embeddings=40, num_labels=3, pad_token_id=1,
                        type_vocab_size=1)
    return RobertaForSequenceClassification(cfg).eval()


MODEL = tiny_roberta()
ROBERTA_NAMES = [n for n, _ in MODEL.named_modules() if n]
SYNTHETIC = [
    "encoder.layers.10.attn.q_proj",
    "encoder.layers.3.attn.q_proj",
    "model.h.3.mlp.c_fc",
    "model.h.1.mlp.c_fc",
    "decoder.block.1.layer.0.SelfAttention.q",
    "decoder.block.0.layer.1.SelfAttention.q",
    "query",                                   # a name equal to a target
    "value",
    "xquery",                                  # target is a substring but not a dot-suffix
    "roberta.encoder.layer.0.attention.self.xquery",
    "roberta.encoder.layer.0.attention.self.query_proj",
    "layer.1.attention.self.value",            # equals a rank_pattern key
    "model.layers.1.experts.0.mlp.dense",      # nested indices: the first index is the layer index
    "roberta.encoder.layer.12.attention.self.query",
]
MODULE_NAMES = ROBERTA_NAMES + SYNTHETIC

PATTERNS = {
    "rank_pattern": {"query": 4, "layer.1.attention.self.value": 2, "^roberta.encoder.layer.0.*": 16},
    "alpha_pattern": {"^roberta.encoder.layer.0.*": 32, "value": 3, "dense": 5},
}

CASES = [
    ("list_query_value", {"target_modules": ["query", "value"]}),
    ("regex_self_query_key", {"target_modules": r".*\.attention\.self\.(query|key)"}),
    ("regex_bare_query", {"target_modules": "query"}),
    ("regex_partial_not_fullmatch", {"target_modules": r"attention\.self\.query"}),
    ("regex_any_dense_or_fc", {"target_modules": r".*(dense|c_fc)"}),
    ("list_dense", {"target_modules": ["dense"]}),
    ("list_multi_dot_suffix", {"target_modules": ["attention.output.dense", "SelfAttention.q"]}),
    ("list_exact_full_name_bypasses_layer_filter",
     {"target_modules": ["roberta.encoder.layer.1.attention.self.key", "value"], "layers_to_transform": 0}),
    ("list_container_module", {"target_modules": ["classifier", "attention"]}),
    ("exclude_str_regex", {"target_modules": ["query", "value"], "exclude_modules": r".*layer\.0\..*"}),
    ("exclude_list", {"target_modules": ["dense"], "exclude_modules": ["output.dense", "classifier.dense"]}),
    ("exclude_list_exact_name",
     {"target_modules": ["query", "value"], "exclude_modules": ["roberta.encoder.layer.1.attention.self.value"]}),
    ("regex_target_with_exclude_list", {"target_modules": r".*\.(query|value)", "exclude_modules": ["value"]}),
    ("layers_int_no_pattern", {"target_modules": ["query", "value", "q_proj", "c_fc", "q", "dense"],
                               "layers_to_transform": 1}),
    ("layers_list_no_pattern", {"target_modules": ["query", "q_proj", "c_fc", "q", "dense"],
                                "layers_to_transform": [0, 3]}),
    ("layers_list_pattern_str", {"target_modules": ["query", "value", "q"], "layers_to_transform": [0],
                                 "layers_pattern": "layer"}),
    ("layers_int_pattern_str_block", {"target_modules": ["q", "query"], "layers_to_transform": 1,
                                      "layers_pattern": "block"}),
    ("layers_list_pattern_list", {"target_modules": ["query", "q_proj", "c_fc"], "layers_to_transform": [1, 3, 10],
                                  "layers_pattern": ["layers", "h"]}),
    ("layers_empty_list_is_no_filter", {"target_modules": ["query"], "layers_to_transform": []}),
    ("modules_to_save_excluded", {"target_modules": ["dense", "query"], "modules_to_save": ["classifier"]}),
    ("modules_to_save_regex_and_dotted", {"target_modules": r".*dense", "modules_to_save": ["intermediate", "out_proj"]}),
    ("empty_list", {"target_modules": []}),
    ("rank_alpha_pattern", {"target_modules": ["query", "value", "dense"], "r": 8, "lora_alpha": 8, **PATTERNS}),
    ("rank_alpha_pattern_layers", {"target_modules": ["query", "value"], "r": 6, "lora_alpha": 12,
                                   "layers_to_transform": [1, 12], "layers_pattern": "layer", **PATTERNS}),
    ("delora_lambda_pattern", {"peft_type": "DELORA", "target_modules": ["query", "value", "intermediate.dense"],
                               "r": 4, "delora_lambda": 15,
                               "rank_pattern": {"intermediate.dense": 2, "layer.1.attention.self.query": 3},
                               "lambda_pattern": {"value": 7.5, "^roberta.encoder.layer.1.*": 4}}),
]


def make_config(fields):
    fields = dict(fields)
    kind = fields.pop("peft_type", "LORA")
    cls = DeloraConfig if kind == "DELORA" else LoraConfig
    return kind, cls(**copy.deepcopy(fields))


def resolve(kind, config, name):
    # Mirrors LoraModel._create_and_replace / DeloraModel._create_and_replace line by line.
    r_key = get_pattern_key(config.rank_pattern.keys(), name)
    r = config.rank_pattern.get(r_key, config.r)
    if kind == "DELORA":
        lam_key = get_pattern_key(config.lambda_pattern.keys(), name)
        return {"r": r, "lambda": config.lambda_pattern.get(lam_key, config.delora_lambda)}
    alpha_key = get_pattern_key(config.alpha_pattern.keys(), name)
    return {"r": r, "alpha": config.alpha_pattern.get(alpha_key, config.lora_alpha)}


def cross_check(kind, fields, targeted, resolved):
    """Inject into a real model and compare the wrapped modules with our targeted set (when PEFT can wrap them)."""
    modules = dict(MODEL.named_modules())
    on_model = [n for n in targeted if n in modules]
    if not on_model or not all(type(modules[n]) is nn.Linear for n in on_model):
        return False
    _, config = make_config(fields)
    model = inject_adapter_in_model(config, copy.deepcopy(MODEL))
    attr = "delora_A" if kind == "DELORA" else "lora_A"
    wrapped = {}
    for n, m in model.named_modules():
        if hasattr(m, attr) and "default" in getattr(m, attr):
            wrapped[n] = m.r["default"]
    assert sorted(wrapped) == sorted(on_model), (fields, sorted(wrapped), on_model)
    for n in on_model:
        assert wrapped[n] == resolved[n]["r"], (n, wrapped[n], resolved[n])
    return True


def main():
    cases = []
    for name, fields in CASES:
        kind, config = make_config(fields)
        targeted = [n for n in MODULE_NAMES if check_target_module_exists(config, n)]
        resolved = {n: resolve(kind, config, n) for n in targeted}
        checked = cross_check(kind, fields, targeted, resolved)
        cases.append({"name": name, "config": fields, "targeted": targeted, "resolved": resolved,
                      "injection_cross_checked": checked})
        print(f"{name:45s} {len(targeted):3d} targeted  injected-check={checked}")
    os.makedirs(OUT, exist_ok=True)
    doc = {
        "generator": "src-test-fixtures/parity/targets.py",
        "peft_version": peft.__version__,
        "semantics": "targeted = names for which peft check_target_module_exists(config, name) is truthy "
                     "(_ExcludedModule counts as not targeted); resolved = r and alpha (DeLoRA: r and lambda) "
                     "per targeted name as LoraModel/DeloraModel._create_and_replace resolve them via "
                     "get_pattern_key over rank_pattern/alpha_pattern/lambda_pattern; config.peft_type absent "
                     "means LORA",
        "module_names": MODULE_NAMES,
        "cases": cases,
    }
    tmp = os.path.join(OUT, "cases.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(OUT, "cases.json"))


if __name__ == "__main__":
    main()
