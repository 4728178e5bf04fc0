"""Golden fixtures for delora-djl's GGUF reader and GGUF -> Hugging Face converter (fixture set `gguf/`).

Writes into fixtures/gguf/:

* tiny-llama.gguf         GGUF v3 (gguf==0.17.1's GGUFWriter, general.alignment 64) of the committed
                          decoders/tiny-llama weights, with the Q and K rows permuted as llama.cpp's
                          convert_hf_to_gguf.py LlamaModel.permute does, in a mix of tensor types:
                          token_embd Q8_0; layer 0: q/k Q4_1, v Q4_0, o BF16, mlp F16; layer 1: q Q8_0, k Q4_0,
                          v Q4_1, o F32, mlp F16; norms F32; output (lm_head) Q4_1. Metadata: llama.* hyper-parameters,
                          a 96-token gpt2 byte-level BPE tokenizer (pre "smollm", 3 control tokens, 1 user-defined
                          token, merges incl. "1 2" that the per-digit split must never apply), a ChatML
                          chat_template, bos 1 / eos 2 / pad 0 / unk 0, and one key of every GGUF value type
                          (test.*) for the reader
* tensors.safetensors     every tensor dequantized by gguf's own numpy dequantize (gguf.quants.dequantize), Q/K
                          un-permuted, with transformers' names: what the Java converter must write, bit for bit
* hf/                     the folder the reference converter (shared/tools/smollm2: gguf_llama_to_hf.py,
                          gguf_bpe_tokenizer.py) writes from tiny-llama.gguf, without model.safetensors (that is
                          tensors.safetensors): config.json, tokenizer.json, tokenizer_config.json
* golden.safetensors      input_ids / attention_mask [2, 7] and transformers' eager eval logits [2, 7, 96] of
                          LlamaForCausalLM.from_pretrained(reference folder)
* expected.json           the test.* metadata values; ids of a few strings from the `tokenizers` library on
                          hf/tokenizer.json (add_special_tokens=False)

Run: /tmp/pyenv/bin/python src-test-fixtures/parity/gguf_fixture.py [--tools DIR]
(DIR holds the two reference scripts; default $SMOLLM2_TOOLS or /work/shared/tools/smollm2). Needs gguf==0.17.1.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType, GGMLQuantizationType as Q
from gguf.quants import quantize, dequantize
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures"))
OUT = os.path.join(FIX, "gguf")
SRC = os.path.join(FIX, "decoders", "tiny-llama")

NAMES = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
         "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
         "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
         "mlp.down_proj": "ffn_down"}
TYPES = {
    0: {"attn_q": Q.Q4_1, "attn_k": Q.Q4_1, "attn_v": Q.Q4_0, "attn_output": Q.BF16},
    1: {"attn_q": Q.Q8_0, "attn_k": Q.Q4_0, "attn_v": Q.Q4_1, "attn_output": Q.F32},
}
STRINGS = ["I have 12345 apples, don't I?", "the thin hat 12 in", "<|im_start|>user\nhi there<|im_end|>\n",
           "a <tool> 007, the end."]


def permute(w, n_head, n_head_kv):
    # llama.cpp convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def vocabulary():
    specials = [("<|endoftext|>", 3), ("<|im_start|>", 3), ("<|im_end|>", 3), ("<tool>", 4)]
    base = list("abcdefghijklmnopqrstuvwxyz0123456789") + ["\u0120", "\u010a"] + list(",.'?!ITH<>|_")
    merges = [("\u0120", "t"), ("h", "e"), ("\u0120t", "he"), ("i", "n"), ("\u0120", "a"), ("\u0120", "h"),
              ("a", "v"), ("av", "e"), ("\u0120h", "ave"), ("1", "2"), ("a", "p"), ("p", "l"), ("ap", "pl"),
              ("e", "s"), ("'", "t"), ("o", "n"), ("\u0120", "i"), ("\u0120i", "n"), ("\u0120t", "h"),
              ("\u0120th", "in"), ("e", "n"), ("\u0120", "d"), ("\u0120d", "on"), ("e", "r")]
    tokens = [s for s, _ in specials] + base
    for a, b in merges:
        if a + b not in tokens:
            tokens.append(a + b)
    filler = iter("ABCDEFGJKLMNOPQRSUVWXYZ")
    while len(tokens) < 96:
        tokens.append(next(filler))
    assert len(tokens) == 96 and len(set(tokens)) == 96
    types = [t for _, t in specials] + [1] * (96 - len(specials))
    return tokens, types, [a + " " + b for a, b in merges]


CHAT = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
        "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def write_gguf(path, cfg, sd):
    w = gguf.GGUFWriter(path, "llama")
    w.add_custom_alignment(64)
    w.add_name("tiny-llama")
    p = "llama."
    w.add_uint32(p + "context_length", cfg["max_position_embeddings"])
    w.add_uint32(p + "embedding_length", cfg["hidden_size"])
    w.add_uint32(p + "block_count", cfg["num_hidden_layers"])
    w.add_uint32(p + "feed_forward_length", cfg["intermediate_size"])
    w.add_uint32(p + "attention.head_count", cfg["num_attention_heads"])
    w.add_uint32(p + "attention.head_count_kv", cfg["num_key_value_heads"])
    w.add_uint32(p + "attention.key_length", cfg["head_dim"])
    w.add_uint32(p + "attention.value_length", cfg["head_dim"])
    w.add_uint32(p + "rope.dimension_count", cfg["head_dim"])
    w.add_float32(p + "attention.layer_norm_rms_epsilon", cfg["rms_norm_eps"])
    w.add_float32(p + "rope.freq_base", cfg["rope_theta"])
    w.add_uint32(p + "vocab_size", cfg["vocab_size"])
    tokens, types, merges = vocabulary()
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(0)
    w.add_unk_token_id(0)
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT)
    for k, v in META.items():
        t, val = v
        if t == "array":
            w.add_key_value("test." + k, val[1], GGUFValueType.ARRAY, sub_type=val[0])
        else:
            w.add_key_value("test." + k, val, t)
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]

    def put(name, arr, qtype):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if qtype == Q.F32:
            w.add_tensor(name, arr)
        elif qtype == Q.F16:
            w.add_tensor(name, arr.astype(np.float16))
        else:
            w.add_tensor(name, quantize(arr, qtype), raw_dtype=qtype)

    put("token_embd.weight", sd["model.embed_tokens.weight"], Q.Q8_0)
    for i in range(cfg["num_hidden_layers"]):
        for hf, g in NAMES.items():
            x = sd[f"model.layers.{i}.{hf}.weight"]
            if g == "attn_q":
                x = permute(x, n_head, n_head)
            if g == "attn_k":
                x = permute(x, n_head, n_kv)
            qtype = TYPES[i].get(g, Q.F32 if g.endswith("norm") else Q.F16)
            put(f"blk.{i}.{g}.weight", x, qtype)
    put("output_norm.weight", sd["model.norm.weight"], Q.F32)
    put("output.weight", sd["lm_head.weight"], Q.Q4_1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


META = {
    "u8": (GGUFValueType.UINT8, 200), "i8": (GGUFValueType.INT8, -100), "u16": (GGUFValueType.UINT16, 60000),
    "i16": (GGUFValueType.INT16, -30000), "u32": (GGUFValueType.UINT32, 4000000000),
    "i32": (GGUFValueType.INT32, -2000000000), "f32": (GGUFValueType.FLOAT32, 0.1),
    "bool": (GGUFValueType.BOOL, True), "str": (GGUFValueType.STRING, "h\u00e9llo \u2603"),
    "u64": (GGUFValueType.UINT64, 2**63 + 5), "i64": (GGUFValueType.INT64, -(2**40)),
    "f64": (GGUFValueType.FLOAT64, 0.1),
    "arr_i32": ("array", (GGUFValueType.INT32, [1, -2, 3])),
    "arr_f32": ("array", (GGUFValueType.FLOAT32, [0.5, -0.25])),
    "arr_str": ("array", (GGUFValueType.STRING, ["a", "", "\u00fc"])),
    "arr_u8": ("array", (GGUFValueType.UINT8, [0, 255])),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", default=os.environ.get("SMOLLM2_TOOLS", "/work/shared/tools/smollm2"))
    args = ap.parse_args()
    sys.path.insert(0, args.tools)
    import gguf_llama_to_hf
    import gguf_bpe_tokenizer

    cfg = json.load(open(os.path.join(SRC, "config.json")))
    sd = load_file(os.path.join(SRC, "model.safetensors"))
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "tiny-llama.gguf")
    write_gguf(path, cfg, sd)

    # expected tensors: gguf's own dequantize + the reference un-permutation
    r = GGUFReader(path)
    expected = {}
    for t in r.tensors:
        x = dequantize(t.data, t.tensor_type).astype(np.float32).reshape([int(d) for d in reversed(t.shape)])
        kind = t.name.split(".")[2] if t.name.startswith("blk.") else None
        if kind == "attn_q":
            x = gguf_llama_to_hf.unpermute(x, cfg["num_attention_heads"])
        if kind == "attn_k":
            x = gguf_llama_to_hf.unpermute(x, cfg["num_key_value_heads"])
        if kind:
            hf = {v: k for k, v in NAMES.items()}[kind]
            name = f"model.layers.{t.name.split('.')[1]}.{hf}.weight"
        else:
            name = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                    "output.weight": "lm_head.weight"}[t.name]
        expected[name] = np.ascontiguousarray(x)

    with tempfile.TemporaryDirectory() as tmp:
        ref = os.path.join(tmp, "hf")
        gguf_llama_to_hf.main(path, ref)
        gguf_bpe_tokenizer.main(path, ref)
        ref_sd = load_file(os.path.join(ref, "model.safetensors"))
        assert sorted(ref_sd) == sorted(expected)
        for k, v in expected.items():
            assert np.array_equal(ref_sd[k], v), k
            # quantization error only: the un-permutation puts every row back where it was
            assert np.abs(v - sd[k]).max() < 0.15, (k, np.abs(v - sd[k]).max())
        save_file(expected, os.path.join(OUT, "tensors.safetensors"), metadata={"format": "pt"})
        hf_out = os.path.join(OUT, "hf")
        shutil.rmtree(hf_out, ignore_errors=True)
        os.makedirs(hf_out)
        for f in ("config.json", "tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(ref, f), hf_out)

        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(ref, attn_implementation="eager", torch_dtype=torch.float32)
        model.eval()
        g = torch.Generator().manual_seed(7)
        ids = torch.randint(3, 96, (2, 7), generator=g)
        mask = torch.ones_like(ids)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits
        from safetensors.torch import save_file as save_t
        save_t({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(), "logits": logits.contiguous()},
               os.path.join(OUT, "golden.safetensors"), metadata={"format": "pt"})

        tok = Tokenizer.from_file(os.path.join(ref, "tokenizer.json"))
        ids_of = {s: tok.encode(s, add_special_tokens=False).ids for s in STRINGS}
        meta = {}
        for k in META:
            f = r.fields["test." + k]
            c = f.contents()
            meta[k] = {"type": GGUFValueType(f.types[0]).name, "value": c}
            if k in ("f32", "arr_f32"):
                meta[k]["value"] = (np.array(c, dtype=np.float32).tolist() if isinstance(c, list)
                                    else float(np.float32(c)))
        json.dump({"metadata": meta, "tokens": ids_of}, open(os.path.join(OUT, "expected.json"), "w"), indent=2,
                  ensure_ascii=False)
        print({f: os.path.getsize(os.path.join(OUT, f)) for f in sorted(os.listdir(OUT))}, ids_of)


if __name__ == "__main__":
    main()
