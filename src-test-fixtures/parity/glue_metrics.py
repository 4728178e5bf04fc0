"""Golden GLUE metric values (fixture set `glue`, file `glue/metrics.json`).

The formulas are those of the `evaluate` library's `glue` metric (metrics/glue/glue.py):
  cola            {"matthews_correlation": sklearn matthews_corrcoef(references, predictions)}
  stsb            {"pearson": scipy pearsonr(predictions, references)[0], "spearmanr": scipy spearmanr(...)[0]}
  mrpc, qqp       {"accuracy": mean(predictions == references), "f1": sklearn f1_score(references, predictions)}
  everything else {"accuracy": mean(predictions == references)}
`evaluate` itself is not in the pinned stack; it only wraps these sklearn/scipy calls, reproduced here.
Regression values are float32-representable (evaluate casts stsb inputs to float32) and computed in float64.
Undefined values (Pearson/Spearman of a constant input) are written as null; they are NaN in scipy.

    python glue_metrics.py
"""
import json
import os
import warnings

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score, matthews_corrcoef

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "src", "main", "resources", "dev", "delora", "fixtures", "glue", "metrics.json")


def num(x):
    x = float(x)
    return None if np.isnan(x) else x


def classification(name, preds, refs, binary):
    preds = np.asarray(preds, dtype=np.int64)
    refs = np.asarray(refs, dtype=np.int64)
    m = {"accuracy": num((preds == refs).mean()),
         "matthews_correlation": num(matthews_corrcoef(refs, preds))}
    if binary:
        m["f1"] = num(f1_score(y_true=refs, y_pred=preds))
    return {"name": name, "kind": "binary" if binary else "multiclass",
            "predictions": preds.tolist(), "references": refs.tolist(), "metrics": m}


def regression(name, preds, refs):
    preds = np.asarray(preds, dtype=np.float32).astype(np.float64)
    refs = np.asarray(refs, dtype=np.float32).astype(np.float64)
    m = {"pearson": num(pearsonr(preds, refs)[0]), "spearmanr": num(spearmanr(preds, refs)[0])}
    return {"name": name, "kind": "regression",
            "predictions": preds.tolist(), "references": refs.tolist(), "metrics": m}


def glue(task, case):
    p = np.asarray(case["predictions"])
    r = np.asarray(case["references"])
    if task == "cola":
        out = [["matthews_correlation", matthews_corrcoef(r, p)]]
    elif task == "stsb":
        out = [["pearson", pearsonr(p, r)[0]], ["spearmanr", spearmanr(p, r)[0]]]
    elif task in ("mrpc", "qqp"):
        out = [["accuracy", (p == r).mean()], ["f1", f1_score(y_true=r, y_pred=p)]]
    else:
        out = [["accuracy", (p == r).mean()]]
    return {"task": task, "case": case["name"], "expected": [[k, num(v)] for k, v in out]}


def main():
    warnings.simplefilter("ignore")  # constant-input and ill-defined-F1 warnings are the point of some cases
    rng = np.random.default_rng(20240501)
    cases = []

    refs = rng.integers(0, 2, 57)
    preds = np.where(rng.random(57) < 0.7, refs, 1 - refs)
    cases.append(classification("binary_random_57", preds, refs, True))
    refs = (rng.random(500) < 0.2).astype(int)
    preds = (rng.random(500) < 0.3).astype(int)
    cases.append(classification("binary_imbalanced_500", preds, refs, True))
    refs = rng.integers(0, 2, 40)
    cases.append(classification("binary_constant_predictions_1", np.ones(40, int), refs, True))
    cases.append(classification("binary_constant_predictions_0", np.zeros(40, int), refs, True))
    cases.append(classification("binary_all_zero", np.zeros(12, int), np.zeros(12, int), True))
    cases.append(classification("binary_perfect", refs, refs, True))
    cases.append(classification("binary_inverted", 1 - refs, refs, True))
    refs = rng.integers(0, 3, 101)
    preds = np.where(rng.random(101) < 0.6, refs, rng.integers(0, 3, 101))
    cases.append(classification("multiclass_random_101", preds, refs, False))

    refs = rng.uniform(0, 5, 80)
    cases.append(regression("regression_random_80", refs + rng.normal(0, 1.2, 80), refs))
    refs = np.round(rng.uniform(0, 5, 120) * 2) / 2
    preds = np.round((refs + rng.normal(0, 1.0, 120)) * 4) / 4
    cases.append(regression("regression_tie_heavy_120", preds, refs))
    refs = np.array([0, 0, 0, 1, 1, 1, 2, 2, 5, 5, 5, 5], float)
    preds = np.array([1, 1, 3, 3, 3, 3, 0, 2, 2, 2, 4, 4], float)
    cases.append(regression("regression_all_ties_12", preds, refs))
    cases.append(regression("regression_constant_prediction", np.full(10, 2.5), np.arange(10) / 2.0))
    cases.append(regression("regression_two_points", [1.0, 3.0], [0.5, 0.25]))

    by_name = {c["name"]: c for c in cases}
    glue_cases = [
        glue("cola", by_name["binary_random_57"]),
        glue("cola", by_name["binary_constant_predictions_1"]),
        glue("sst2", by_name["binary_imbalanced_500"]),
        glue("mrpc", by_name["binary_random_57"]),
        glue("qqp", by_name["binary_imbalanced_500"]),
        glue("stsb", by_name["regression_tie_heavy_120"]),
        glue("mnli", by_name["multiclass_random_101"]),
        glue("qnli", by_name["binary_random_57"]),
        glue("rte", by_name["binary_inverted"]),
    ]
    import sklearn
    import scipy
    doc = {"versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "scipy": scipy.__version__},
           "cases": cases, "glue": glue_cases}
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
