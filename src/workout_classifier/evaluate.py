"""Cross-validation: honest (grouped) by default, the reference's plain k-fold on request.

`protocol="grouped"`: StratifiedGroupKFold, so no group (e.g. all clips cut from
one UCF101 source video) is on both sides of a split. `protocol="seed"`: plain
StratifiedKFold over clips, as the reference did; reported for comparison only.
Classes with fewer clips (or groups) than folds cannot appear in every test fold:
they are kept in training and flagged in the results, never crashed on.
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from workout_classifier.features import FeatureConfig, Track, clip_probs, eval_windows
from workout_classifier.train import TrainConfig, fit

PROTOCOLS = ("grouped", "seed")


def make_splits(y: np.ndarray, groups: np.ndarray, folds: int, protocol: str, seed: int):
    """List of (train_idx, test_idx). Grouped: no group on both sides."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use one of {PROTOCOLS}")
    n_groups = len(np.unique(groups)) if protocol == "grouped" else len(y)
    if folds < 2 or folds > n_groups:
        raise ValueError(f"need 2 <= folds <= {n_groups} ({'groups' if protocol == 'grouped' else 'clips'})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "least populated class has only N members"
        if protocol == "grouped":
            cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
            return list(cv.split(np.zeros(len(y)), y, groups))
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(cv.split(np.zeros(len(y)), y))


def rare_classes(y: np.ndarray, groups: np.ndarray, classes: list[str], folds: int, protocol: str) -> list[str]:
    """Classes with too few clips (or groups, when grouped) to be tested in every fold."""
    out = []
    for k, name in enumerate(classes):
        units = np.unique(groups[y == k]) if protocol == "grouped" else np.flatnonzero(y == k)
        if len(units) < folds:
            out.append(name)
    return out


def fold_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy and macro-F1 of one test fold (F1 over the classes present in it)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=np.unique(y_true), average="macro", zero_division=0)),
    }


@dataclass
class CVResult:
    protocol: str
    model: str
    classes: list[str]
    folds: list[dict] = field(default_factory=list)
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    probs: np.ndarray | None = None  # out-of-fold clip probabilities (N, K)
    histories: list[dict] = field(default_factory=list)
    rare: list[str] = field(default_factory=list)
    seconds: float = 0.0
    infer_ms_per_clip: float = 0.0
    config: dict = field(default_factory=dict)

    def metrics(self) -> dict:
        accs = [f["accuracy"] for f in self.folds]
        f1s = [f["macro_f1"] for f in self.folds]
        labels = list(range(len(self.classes)))
        p, r, f, s = precision_recall_fscore_support(self.y_true, self.y_pred, labels=labels, zero_division=0)
        cm = confusion_matrix(self.y_true, self.y_pred, labels=labels)
        return {
            "protocol": self.protocol,
            "model": self.model,
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "macro_f1_mean": float(np.mean(f1s)),
            "macro_f1_std": float(np.std(f1s)),
            "pooled_accuracy": float(accuracy_score(self.y_true, self.y_pred)),
            "folds": self.folds,
            "per_class": {
                c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i]),
                    "too_few_for_every_fold": c in self.rare}
                for i, c in enumerate(self.classes)
            },  # fmt: skip
            "classes": self.classes,
            "rare_classes": self.rare,
            "confusion_matrix": cm.tolist(),
            "train_seconds": self.seconds,
            "infer_ms_per_clip": self.infer_ms_per_clip,
            "config": self.config,
        }


def _run_fold(tracks, y, groups, classes, model_name, features, config, model_options, tta, epoch_log, item):
    """Fit on one fold's training part, test on the rest: (fold, history, probs, train s, infer s)."""
    k, tr, te = item
    t0 = time.perf_counter()
    clf, hist = fit([tracks[i] for i in tr], y[tr], groups[tr], classes, model_name, features,
                    config, model_options, log=epoch_log)  # fmt: skip
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    raw, owner = eval_windows([tracks[i] for i in te], features)
    p = clip_probs(clf.predict_windows(raw, tta=tta), owner, len(te))
    t_inf = time.perf_counter() - t0
    fold = {"fold": k + 1, "clips": int(len(te)), "train_clips": int(len(tr)), **fold_metrics(y[te], p.argmax(1)),
            "epochs": len(hist["train_loss"]), "best_epoch": hist["best_epoch"],
            "train_seconds": hist["seconds"]}  # fmt: skip
    return fold, hist, p, t_train, t_inf


def cross_validate(
    tracks: list[Track],
    y: np.ndarray,
    groups: np.ndarray,
    classes: list[str],
    model_name: str = "cnn-lstm",
    features: FeatureConfig = FeatureConfig(),
    config: TrainConfig = TrainConfig(),
    model_options: dict | None = None,
    folds: int = 5,
    protocol: str = "grouped",
    tta: bool = False,
    log=None,
    epoch_log=None,
    map_folds=None,
) -> CVResult:
    """Train and test one model per fold; `log` gets a line per fold, `epoch_log` one per epoch.

    `map_folds(fn, items)` (default: the builtin map) runs the folds, lazily, in order."""
    y, groups = np.asarray(y), np.asarray(groups)
    splits = make_splits(y, groups, folds, protocol, config.seed)
    res = CVResult(protocol=protocol, model=model_name, classes=list(classes),
                   rare=rare_classes(y, groups, classes, folds, protocol),
                   config={"features": features.to_dict(), "train": asdict(config), "folds": folds,
                           "model_options": model_options or {}, "tta": tta})  # fmt: skip
    probs = np.zeros((len(y), len(classes)))
    t_train, t_inf = 0.0, 0.0
    run = functools.partial(_run_fold, tracks, y, groups, classes, model_name, features, config,
                            model_options, tta, epoch_log)  # fmt: skip
    items = [(k, tr, te) for k, (tr, te) in enumerate(splits)]
    outs = (map_folds or map)(run, items)  # map_folds: e.g. distributed.ray_map, same results
    for (k, _tr, te), (fold, hist, p, secs, inf) in zip(items, outs, strict=True):
        t_train, t_inf = t_train + secs, t_inf + inf
        probs[te] = p
        res.folds.append(fold)
        res.histories.append({k_: v for k_, v in hist.items() if isinstance(v, list)})
        if log:
            log(f"fold {k + 1}/{folds}: accuracy {fold['accuracy']:.3f}  macro-F1 {fold['macro_f1']:.3f}  "
                f"({fold['clips']} clips, {hist['seconds']:.0f}s)")  # fmt: skip
    res.y_true, res.probs = y, probs
    res.y_pred = probs.argmax(1)
    res.seconds = t_train
    res.infer_ms_per_clip = 1000 * t_inf / len(y)
    return res
