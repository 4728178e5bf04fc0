"""Golden permutations for the RED/DeLoRA GLUE validation/test split (fixture set `glue/splits`).

DeLoRA's data_utils.py::load_glue_data_final (taken from RED) splits each GLUE dev set with
`np.random.RandomState(seed).permutation(len(validation))`, seed = the run seed (42..46). This script
computes those permutations with numpy itself and writes, per task, the FULL permutation for rte and mrpc
at seeds 42 and 46 and the first 64 entries otherwise, so the Java port (NumpyRandomState, RedSplits)
is checked against numpy and not against itself.

If the shared reference permutations (ExplainableML/DeLoRA protocol, one JSON per task with key
`permutations`) are given with --check DIR, every permutation is cross-checked against them in full.

    python glue_splits.py [--check GLUE_DIR/delora_splits]
"""
import argparse
import json
import os

import numpy as np

# Number of rows of each GLUE validation split as loaded by Hugging Face `glue` (mnli: validation_matched).
N_VALIDATION = {
    "cola": 1043, "sst2": 872, "mrpc": 408, "qqp": 40430,
    "stsb": 1500, "mnli": 9815, "qnli": 5463, "rte": 277,
}
SEEDS = [42, 43, 44, 45, 46]
FULL = {"rte": {42, 46}, "mrpc": {42, 46}}
PREFIX = 64

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "src", "main", "resources", "dev", "delora", "fixtures", "glue", "splits")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", help="folder of <task>.json reference permutations to cross-check against")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    for task, n in N_VALIDATION.items():
        perms = {s: np.random.RandomState(s).permutation(n).tolist() for s in SEEDS}
        if args.check:
            with open(os.path.join(args.check, task + ".json")) as f:
                ref = json.load(f)
            assert ref["n_validation"] == n, (task, ref["n_validation"], n)
            for s in SEEDS:
                assert ref["permutations"][str(s)] == perms[s], (task, s)
        out = {
            "task": task,
            "n": n,
            "numpy": np.__version__,
            "note": "np.random.RandomState(seed).permutation(n); a list shorter than n is the first entries",
            "permutations": {str(s): perms[s] if s in FULL.get(task, ()) else perms[s][:PREFIX] for s in SEEDS},
        }
        with open(os.path.join(OUT, task + ".json"), "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
    print("wrote", OUT, "(cross-checked)" if args.check else "")


if __name__ == "__main__":
    main()
