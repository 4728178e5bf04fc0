"""Training-mode gradients of PEFT adapters through a whole (tiny) encoder.

Writes fixtures/grads/peft_grads.safetensors: for the PEFT folders peft/lora and peft/delora (written by
peft_adapters.py) loaded trainable onto peft/base with every dropout set to 0 (so a training-mode forward is
deterministic), the cross-entropy loss on peft/golden.safetensors' inputs with labels LABELS, and the gradient of
every trainable parameter. Keys: "<adapter>/loss" and "<adapter>/<module path>.<parameter>", where the module path
drops PEFT's "base_model.model." prefix and its "modules_to_save.default." wrapper, e.g.
"lora/roberta.encoder.layer.0.attention.self.query.lora_A.default.weight", "delora/...query.delora_lambda.default",
"lora/classifier.dense.bias".
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures"))
LABELS = torch.tensor([2, 0])


def our_name(peft_name):
    name = peft_name.removeprefix("base_model.model.")
    return name.replace("modules_to_save.default.", "")


def main():
    golden = load_file(os.path.join(FIX, "peft", "golden.safetensors"))
    out = {}
    for kind in ("lora", "delora"):
        base = AutoModelForSequenceClassification.from_pretrained(
            os.path.join(FIX, "peft", "base"), attn_implementation="eager", hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0)
        model = PeftModel.from_pretrained(base, os.path.join(FIX, "peft", kind), is_trainable=True)
        model.train()
        res = model(input_ids=golden["input_ids"], attention_mask=golden["attention_mask"], labels=LABELS)
        res.loss.backward()
        out[f"{kind}/loss"] = res.loss.detach().reshape(1).clone()
        n = 0
        for name, p in model.named_parameters():
            if p.requires_grad:
                assert p.grad is not None and p.grad.abs().max() > 0, name
                out[f"{kind}/{our_name(name)}"] = p.grad.detach().clone().contiguous()
                n += 1
        print(kind, "loss", res.loss.item(), "trainable tensors", n)
    os.makedirs(os.path.join(FIX, "grads"), exist_ok=True)
    save_file(out, os.path.join(FIX, "grads", "peft_grads.safetensors"))


if __name__ == "__main__":
    main()
