"""Record Keras 3's metric results for the metrics tests (tests/fixtures/keras_metrics.json).

Every case feeds the same small arrays, in two batches (the second one with
sample weights where the metric takes them), to a Keras 3 metric and records
its result and default name. The test suite then feeds the same arrays to
chainrule's metric of the same name and compares. Needs Keras 3 and TensorFlow,
so it runs in the benchmark environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_metrics_reference.py
"""

from __future__ import annotations

import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras_metrics.json"


def data() -> dict:
    rng = np.random.default_rng(7)
    n, k = 6, 3
    probs = rng.dirichlet(np.ones(k), size=(2, n))
    labels = rng.integers(0, k, size=(2, n))
    onehot = np.eye(k)[labels]
    binary = rng.integers(0, 2, size=(2, n, 2)).astype(float)
    bprob = rng.uniform(0.05, 0.95, size=(2, n, 2))
    reg_true = rng.normal(size=(2, n, 2))
    reg_pred = reg_true + rng.normal(scale=0.5, size=(2, n, 2))
    pos_true = rng.uniform(0.5, 3.0, size=(2, n, 2))
    pos_pred = rng.uniform(0.5, 3.0, size=(2, n, 2))
    multi = rng.integers(0, 2, size=(2, n, k)).astype(float)
    multi[:, :, 0] = 1.0
    sw = rng.uniform(0.0, 2.0, size=n)
    seg_true = rng.integers(0, k, size=(2, n, 4))
    seg_pred = rng.integers(0, k, size=(2, n, 4))
    return {k_: v.tolist() for k_, v in dict(
        probs=probs, labels=labels, onehot=onehot, binary=binary, bprob=bprob,
        reg_true=reg_true, reg_pred=reg_pred, pos_true=pos_true, pos_pred=pos_pred,
        multi=multi, sw=sw, seg_true=seg_true, seg_pred=seg_pred).items()}


# name -> (class name, kwargs, y_true key, y_pred key, weighted second batch)
CASES = {
    "bce": ("BinaryCrossentropy", {}, "binary", "bprob", True),
    "bce_smooth": ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary", "bprob", True),
    "cce": ("CategoricalCrossentropy", {}, "onehot", "probs", True),
    "cce_smooth": ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot", "probs", True),
    "scce": ("SparseCategoricalCrossentropy", {}, "labels", "probs", True),
    "kld": ("KLDivergence", {}, "onehot", "probs", True),
    "poisson": ("Poisson", {}, "pos_true", "pos_pred", True),
    "hinge": ("Hinge", {}, "binary", "reg_pred", True),
    "squared_hinge": ("SquaredHinge", {}, "binary", "reg_pred", True),
    "categorical_hinge": ("CategoricalHinge", {}, "onehot", "probs", True),
    "logcosh": ("LogCoshError", {}, "reg_true", "reg_pred", True),
    "cosine": ("CosineSimilarity", {}, "reg_true", "reg_pred", True),
    "msle": ("MeanSquaredLogarithmicError", {}, "pos_true", "pos_pred", True),
    "mape": ("MeanAbsolutePercentageError", {}, "pos_true", "pos_pred", True),
    "r2": ("R2Score", {}, "reg_true", "reg_pred", True),
    "r2_none": ("R2Score", {"class_aggregation": None}, "reg_true", "reg_pred", True),
    "r2_variance": ("R2Score", {"class_aggregation": "variance_weighted_average"},
                    "reg_true", "reg_pred", True),
    "r2_adjusted": ("R2Score", {"num_regressors": 2}, "reg_true", "reg_pred", False),
    "f1": ("F1Score", {}, "onehot", "probs", True),
    "f1_threshold_macro": ("F1Score", {"threshold": 0.3, "average": "macro"},
                           "multi", "probs", True),
    "f1_micro": ("F1Score", {"average": "micro", "threshold": 0.3}, "multi", "probs", True),
    "f1_weighted": ("F1Score", {"average": "weighted", "threshold": 0.3}, "multi", "probs", True),
    "fbeta": ("FBetaScore", {"beta": 2.0, "threshold": 0.4}, "multi", "probs", True),
    "iou": ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "seg_true", "seg_pred", False),
    "mean_iou": ("MeanIoU", {"num_classes": 3}, "seg_true", "seg_pred", False),
    "mean_iou_ignore": ("MeanIoU", {"num_classes": 3, "ignore_class": 1},
                        "seg_true", "seg_pred", False),
    "binary_iou": ("BinaryIoU", {"threshold": 0.4}, "binary", "bprob", False),
    "onehot_iou": ("OneHotIoU", {"num_classes": 3, "target_class_ids": [1]},
                   "onehot", "probs", False),
    "onehot_mean_iou": ("OneHotMeanIoU", {"num_classes": 3}, "onehot", "probs", False),
    "pearson": ("PearsonCorrelation", {}, "reg_true", "reg_pred", True),
    "concordance": ("ConcordanceCorrelation", {}, "reg_true", "reg_pred", True),
    "sensitivity_at_specificity": ("SensitivityAtSpecificity", {"specificity": 0.6},
                                   "binary", "bprob", True),
    "specificity_at_sensitivity": ("SpecificityAtSensitivity",
                                   {"sensitivity": 0.5, "num_thresholds": 11},
                                   "binary", "bprob", True),
    "precision_at_recall": ("PrecisionAtRecall", {"recall": 0.4}, "binary", "bprob", True),
    "recall_at_precision": ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 7},
                            "binary", "bprob", True),
    "recall_at_precision_class": ("RecallAtPrecision", {"precision": 0.3, "class_id": 1},
                                  "onehot", "probs", False),
}


def main() -> None:
    import keras
    import tensorflow as tf

    arrays = data()
    results = {}
    for case, (cls, kwargs, tkey, pkey, weighted) in CASES.items():
        metric = getattr(keras.metrics, cls)(**kwargs)
        yt, yp = np.asarray(arrays[tkey]), np.asarray(arrays[pkey])
        metric.update_state(yt[0], yp[0])
        first = np.asarray(metric.result()).tolist()
        sw = np.asarray(arrays["sw"]) if weighted else None
        metric.update_state(yt[1], yp[1], sample_weight=sw)
        results[case] = {"class": cls, "kwargs": kwargs, "y_true": tkey, "y_pred": pkey,
                         "weighted": weighted, "name": metric.name, "first": first,
                         "result": np.asarray(metric.result()).tolist()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"keras": keras.__version__, "tensorflow": tf.__version__,
                               "data": arrays, "cases": results}, indent=1) + "\n")
    print(f"wrote {OUT} ({len(results)} cases)")


if __name__ == "__main__":
    main()
