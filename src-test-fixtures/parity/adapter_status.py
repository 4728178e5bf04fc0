"""PEFT get_layer_status() / get_model_status() golden values on the tiny RoBERTa of peft_adapters.py.

Writes into fixtures/status/ (reads fixtures/peft/base), one JSON file per scenario:
{"scenario", "steps", "layers": [dataclasses.asdict(TunerLayerStatus), ...], "model": asdict(TunerModelStatus)}.

Every LoRA scenario starts from the same model, built with no task type (so no modules_to_save, which PEFT would list
as ModulesToSaveWrapper layers):
    default  LoRA r=4, alpha=8, query,value                  (get_peft_model: active)
    other    LoRA r=2, alpha=3, query,value                  (add_adapter)
    extra    LoRA r=2, alpha=3, layer.0.attention.self.query, layer.1.attention.self.key
             (a subset of the modules plus one module no other adapter has)

    added           as built: default active
    other_active    model.set_adapter("other")
    two_active      model.base_model.set_adapter(["default", "extra"])
    merged_default  model.base_model.merge_adapter(["default"])
    merged_two      then merge_adapter(["extra"]) too (an inactive adapter, merged where it exists)
    disabled        inside `with model.disable_adapter():` (PEFT freezes every adapter while disabled)
    inference       model.base_model.set_adapter("other", inference_mode=True) (every adapter frozen)
    irregular       per-module changes that make the model inconsistent: layer.0 query merges "other" alone,
                    layer.1 value set_adapter("other") alone, layer.0 query lora_A.default requires_grad False,
                    layer.1 query enable_adapters(False) (which also freezes its adapters)
    delora          a fresh model with DeloraConfig(r=4, delora_lambda=15, query,value,intermediate.dense)
    dora            a fresh model with LoraConfig(r=4, alpha=8, use_dora=True, query,value)

The adapter values play no part in the status; total_params and trainable_params count the scalars of the
RoBERTa plus its adapters as get_nb_trainable_parameters does.
"""
import dataclasses
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from peft import DeloraConfig, LoraConfig, get_peft_model
from transformers import AutoModelForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures"))
OUT = os.path.join(FIX, "status")
EXTRA = ["layer.0.attention.self.query", "layer.1.attention.self.key"]

torch.manual_seed(20261220)


def load_base():
    return AutoModelForSequenceClassification.from_pretrained(
        os.path.join(FIX, "peft", "base"), attn_implementation="eager").eval()


def build():
    model = get_peft_model(load_base(), LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"]))
    model.add_adapter("other", LoraConfig(r=2, lora_alpha=3, target_modules=["query", "value"]))
    model.add_adapter("extra", LoraConfig(r=2, lora_alpha=3, target_modules=EXTRA))
    return model


def module(model, path):
    return model.base_model.model.get_submodule(path)


def dump(model, scenario, steps):
    data = {
        "scenario": scenario,
        "steps": steps,
        "layers": [dataclasses.asdict(s) for s in model.get_layer_status()],
        "model": dataclasses.asdict(model.get_model_status()),
    }
    with open(os.path.join(OUT, scenario + ".json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(scenario, data["model"]["num_adapter_layers"], "layers:", {k: data["model"][k] for k in (
        "enabled", "active_adapters", "merged_adapters", "requires_grad", "trainable_params", "total_params")})
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))

    dump(build(), "added", "build()")

    model = build()
    model.set_adapter("other")
    dump(model, "other_active", "set_adapter('other')")

    model = build()
    model.base_model.set_adapter(["default", "extra"])
    dump(model, "two_active", "base_model.set_adapter(['default', 'extra'])")

    model = build()
    model.base_model.merge_adapter(["default"])
    dump(model, "merged_default", "base_model.merge_adapter(['default'])")
    model.base_model.merge_adapter(["extra"])
    merged = dump(model, "merged_two", "base_model.merge_adapter(['default']); base_model.merge_adapter(['extra'])")
    assert merged["model"]["merged_adapters"] == ["default", "extra"]

    model = build()
    with model.disable_adapter():
        disabled = dump(model, "disabled", "with disable_adapter():")
    assert disabled["model"]["enabled"] is False and disabled["model"]["trainable_params"] == 0

    model = build()
    model.base_model.set_adapter("other", inference_mode=True)
    dump(model, "inference", "base_model.set_adapter('other', inference_mode=True)")

    model = build()
    module(model, "roberta.encoder.layer.0.attention.self.query").merge(adapter_names=["other"])
    module(model, "roberta.encoder.layer.1.attention.self.value").set_adapter("other")
    module(model, "roberta.encoder.layer.0.attention.self.query").lora_A["default"].weight.requires_grad_(False)
    module(model, "roberta.encoder.layer.1.attention.self.query").enable_adapters(False)
    irregular = dump(model, "irregular", "layer.0 query merge(['other']); layer.1 value set_adapter('other'); "
                                         "layer.0 query lora_A.default requires_grad False; "
                                         "layer.1 query enable_adapters(False)")
    for key in ("enabled", "active_adapters", "merged_adapters"):
        assert irregular["model"][key] == "irregular", key
    assert irregular["model"]["requires_grad"]["default"] == "irregular"
    assert irregular["layers"][0]["requires_grad"]["default"] == "irregular"

    model = get_peft_model(load_base(), DeloraConfig(r=4, delora_lambda=15,
                                                     target_modules=["query", "value", "intermediate.dense"]))
    dump(model, "delora", "get_peft_model(DeloraConfig(r=4, delora_lambda=15, query,value,intermediate.dense))")

    model = get_peft_model(load_base(), LoraConfig(r=4, lora_alpha=8, use_dora=True,
                                                   target_modules=["query", "value"]))
    dump(model, "dora", "get_peft_model(LoraConfig(r=4, lora_alpha=8, use_dora=True, query,value))")


if __name__ == "__main__":
    main()
