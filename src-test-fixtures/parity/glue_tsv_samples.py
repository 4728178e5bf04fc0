"""Small GLUE TSV samples for the reader tests (fixture set `glue/tsv`) and what Hugging Face reads from them.

Real layouts: a few rows copied byte for byte from the GLUE files (cola, sst2, mrpc with its UTF-8 BOM,
stsb, qnli, rte; rows chosen to include quote characters that are not CSV quoting). MNLI and QQP files
were not available, so their samples are synthetic rows in the original column layout (16 and 6 columns).
Malformed files exercise the reader's errors.

`expected.json` holds, per good sample, what the Hugging Face `glue` builder (datasets' glue.py:
csv with delimiter="\\t", quoting=QUOTE_NONE; CoLA by position; ClassLabel string -> index; stsb float32)
would yield: text a, text b (or null), label, 0-based row index.

    python glue_tsv_samples.py GLUE_DIR
"""
import csv
import io
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "src", "main", "resources", "dev", "delora", "fixtures", "glue", "tsv")

# task -> (text column a, text column b or None, label column, label classes or None (numeric))
HF = {
    "sst2": ("sentence", None, "label", None),
    "mrpc": ("#1 String", "#2 String", "Quality", None),
    "qqp": ("question1", "question2", "is_duplicate", None),
    "stsb": ("sentence1", "sentence2", "score", "float"),
    "mnli": ("sentence1", "sentence2", "gold_label", ["entailment", "neutral", "contradiction"]),
    "qnli": ("question", "sentence", "label", ["entailment", "not_entailment"]),
    "rte": ("sentence1", "sentence2", "label", ["entailment", "not_entailment"]),
}


def take(path, header, picks):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    head = [lines[0]] if header else []
    body = lines[1:] if header else lines
    return b"\n".join(head + [body[i] for i in picks]) + b"\n"


def hf_rows(task, data):
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]  # glue.py seeks past the BOM of the MRPC source file
    f = io.StringIO(text, newline=None)
    out = []
    if task == "cola":
        for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            out.append({"a": row[3], "b": None, "label": int(row[1]), "row": n})
        return out
    a, b, lab, classes = HF[task]
    for n, row in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
        raw = row[lab]
        if classes == "float":
            label = float(np.float32(raw))
        elif classes:
            label = classes.index(raw)
        else:
            label = int(raw)
        out.append({"a": row[a], "b": row[b] if b else None, "label": label, "row": n})
    return out


def write(rel, data):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def main():
    src = sys.argv[1]
    files = {}
    # CoLA: no header; the real dev file has no trailing newline, so neither does the sample.
    files[("cola", "dev.tsv")] = take(os.path.join(src, "CoLA/dev.tsv"), False, [0, 1, 2, 3, 4, 5]).rstrip(b"\n")
    files[("sst2", "dev.tsv")] = take(os.path.join(src, "SST-2/dev.tsv"), True, [0, 1, 2, 3, 4])
    files[("mrpc", "dev.tsv")] = take(os.path.join(src, "MRPC/dev.tsv"), True, [0, 1, 2, 3])
    files[("stsb", "dev.tsv")] = take(os.path.join(src, "STS-B/dev.tsv"), True, [0, 1, 2, 3])
    files[("qnli", "dev.tsv")] = take(os.path.join(src, "QNLI/dev.tsv"), True, [0, 1, 2, 3])
    files[("rte", "dev.tsv")] = take(os.path.join(src, "RTE/dev.tsv"), True, [0, 1, 2, 3])
    # Rows with quote characters (not CSV quoting) from the real files.
    for task, name, header in (("stsb", "STS-B/dev.tsv", True), ("rte", "RTE/dev.tsv", True),
                               ("qnli", "QNLI/dev.tsv", True)):
        with open(os.path.join(src, name), "rb") as f:
            lines = f.read().split(b"\n")[1:]
        quoted = [i for i, l in enumerate(lines) if i >= 4 and b'"' in l][:2]
        files[(task, "dev.tsv")] = take(os.path.join(src, name), header, [0, 1, 2, 3] + quoted)
    mnli_header = ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                   "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\t"
                   "label5\tgold_label")
    mnli_rows = [
        ("0", "63735", "63735n", "slate", "( ( The cat ) sat )", "( ( A cat ) sat )", "(ROOT (S))", "(ROOT (S))",
         "The cat sat on the mat.", "A cat sat somewhere.", "entailment", "entailment", "neutral", "entailment",
         "entailment", "entailment"),
        ("1", "91383", "91383c", "government", "( x )", "( y )", "(ROOT)", "(ROOT)",
         'He said "no" twice.', "He agreed at once.", "contradiction", "contradiction", "contradiction",
         "contradiction", "contradiction", "contradiction"),
        ("2", "755", "755e", "telephone", "( x )", "( y )", "(ROOT)", "(ROOT)",
         "We met in \"the park.", "They met outdoors.", "neutral", "neutral", "entailment", "neutral",
         "neutral", "neutral"),
    ]
    files[("mnli", "dev_matched.tsv")] = (mnli_header + "\n" + "".join("\t".join(r) + "\n" for r in mnli_rows)).encode()
    qqp = ("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
           "201359\t303345\t303346\tWhy are African-Americans so beautiful?\tWhy are hispanics so beautiful?\t0\n"
           "263843\t69383\t380476\tI want to pursue PhD in Computer Science about \"social network\"?\t"
           "I handle social media for a non-profit. What should I do?\t0\n"
           "172974\t266948\t175089\tIs there a reason why we should travel alone?\tWhat are some reasons to travel alone?\t1\n")
    files[("qqp", "dev.tsv")] = qqp.encode()

    expected = {}
    for (task, name), data in files.items():
        write(f"{task}/{name}", data)
        expected[f"{task}/{name}"] = {"task": task, "rows": hf_rows(task, data)}

    # Same SST-2 rows with Windows line endings: Python's universal newlines read them identically.
    crlf = files[("sst2", "dev.tsv")].replace(b"\n", b"\r\n")
    write("crlf/sst2/dev.tsv", crlf)
    expected["crlf/sst2/dev.tsv"] = {"task": "sst2", "rows": hf_rows("sst2", files[("sst2", "dev.tsv")])}

    # Malformed samples (the reader must reject them, naming file and 1-based line).
    rte = files[("rte", "dev.tsv")].split(b"\n")
    rte[3] = b"\t".join(rte[3].split(b"\t")[:3])  # line 4: 3 columns instead of 4
    write("malformed/rte_wrong_columns/dev.tsv", b"\n".join(rte))
    st = files[("stsb", "dev.tsv")].split(b"\n")
    cols = st[2].split(b"\t")
    cols[-1] = b"four"  # line 3: unparsable score
    st[2] = b"\t".join(cols)
    write("malformed/stsb_bad_score/dev.tsv", b"\n".join(st))
    mn = files[("mnli", "dev_matched.tsv")].split(b"\n")
    mn[2] = mn[2].rsplit(b"\t", 1)[0] + b"\tmaybe"  # line 3: not an MNLI class
    write("malformed/mnli_unknown_label/dev_matched.tsv", b"\n".join(mn))
    ss = files[("sst2", "dev.tsv")].split(b"\n")
    ss[5] = ss[5].rsplit(b"\t", 1)[0] + b"\t2"  # line 6: SST-2 is binary
    write("malformed/sst2_label_2/dev.tsv", b"\n".join(ss))

    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
