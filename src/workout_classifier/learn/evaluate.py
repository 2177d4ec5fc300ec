"""Cross-validation: honest (grouped) by default, leave-source-out, the reference's plain k-fold.

`protocol="grouped"`: StratifiedGroupKFold, so no group (e.g. all clips cut from
one UCF101 source video) is on both sides of a split. `protocol="source"`: for
every exercise with clips from two or more sources (dataset.Clip.source), each
of its sources in turn is the test set and the model trains on everything else
(without any clip of a test clip's group): how the model does on people, rooms
and cameras of a source it never saw. Exercises with one source are trained on
but not tested. `protocol="seed"`: plain StratifiedKFold over clips, as the
reference did; reported for comparison only. Classes with fewer clips (or
groups) than folds cannot appear in every test fold: they are kept in training
and flagged in the results, never crashed on.
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

from workout_classifier.learn.features import FeatureConfig, Track, clip_probs, eval_windows
from workout_classifier.learn.train import TrainConfig, fit

PROTOCOLS = ("grouped", "source", "seed")


def source_splits(
    y: np.ndarray, groups: np.ndarray, sources: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, int, str]]:
    """Leave one source of one exercise out: [(train_idx, test_idx, class, source)].

    Only exercises with clips from >= 2 sources get folds. Training never holds
    a clip of the held-out (class, source) nor one sharing a group with it."""
    y, groups, sources = np.asarray(y), np.asarray(groups), np.asarray(sources)
    out = []
    for k in np.unique(y):
        own = np.unique(sources[y == k])
        if len(own) < 2:
            continue
        for s in own:
            test = (y == k) & (sources == s)
            train = ~test & ~np.isin(groups, groups[test])
            out.append((np.flatnonzero(train), np.flatnonzero(test), int(k), str(s)))
    if not out:
        raise ValueError("protocol 'source' needs an exercise with clips from two or more sources")
    return out


def make_splits(y: np.ndarray, groups: np.ndarray, folds: int, protocol: str, seed: int,
                sources: np.ndarray | None = None):  # fmt: skip
    """List of (train_idx, test_idx). Grouped: no group on both sides; source: see source_splits."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use one of {PROTOCOLS}")
    if protocol == "source":
        if sources is None:
            raise ValueError("protocol 'source' needs the source of every clip")
        return [(tr, te) for tr, te, _, _ in source_splits(y, groups, sources)]
    n_groups = len(np.unique(groups)) if protocol == "grouped" else len(y)
    if folds < 2 or folds > n_groups:
        raise ValueError(
            f"need 2 <= folds <= {n_groups} ({'groups' if protocol == 'grouped' else 'clips'})"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "least populated class has only N members"
        if protocol == "grouped":
            cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
            return list(cv.split(np.zeros(len(y)), y, groups))
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(cv.split(np.zeros(len(y)), y))


def rare_classes(y: np.ndarray, groups: np.ndarray, classes: list[str], folds: int, protocol: str,
                 sources: np.ndarray | None = None) -> list[str]:  # fmt: skip
    """Classes with too few clips (or groups, when grouped) to be tested in every fold;
    for protocol 'source', those with clips from fewer than two sources (never tested)."""
    out = []
    for k, name in enumerate(classes):
        if protocol == "source":
            if sources is None or len(np.unique(np.asarray(sources)[y == k])) < 2:
                out.append(name)
            continue
        units = np.unique(groups[y == k]) if protocol == "grouped" else np.flatnonzero(y == k)
        if len(units) < folds:
            out.append(name)
    return out


def confusable_pairs(cm: np.ndarray, classes: list[str], top: int = 5) -> list[dict]:
    """Pairs of classes most often mistaken for each other (both directions), most first."""
    cm = np.asarray(cm)
    pairs = []
    for i in range(len(classes)):
        for j in range(i + 1, len(classes)):
            if cm[i, j] + cm[j, i] > 0:
                pairs.append({"pair": [classes[i], classes[j]], "count": int(cm[i, j] + cm[j, i]),
                              "a_as_b": int(cm[i, j]), "b_as_a": int(cm[j, i])})  # fmt: skip
    return sorted(pairs, key=lambda p: -p["count"])[:top]


def fold_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy and macro-F1 of one test fold (F1 over the classes present in it)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=np.unique(y_true), average="macro", zero_division=0)
        ),
    }


@dataclass
class CVResult:
    protocol: str
    model: str
    classes: list[str]
    folds: list[dict] = field(default_factory=list)
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    probs: np.ndarray | None = None  # out-of-fold clip probabilities (N, K) of the tested clips
    tested: np.ndarray | None = (
        None  # indices of the tested clips in the input (all, but for 'source')
    )
    histories: list[dict] = field(default_factory=list)
    rare: list[str] = field(default_factory=list)
    seconds: float = 0.0
    infer_ms_per_clip: float = 0.0
    config: dict = field(default_factory=dict)

    def metrics(self) -> dict:
        """Fold means, pooled out-of-fold figures, per class, confusion and confusable pairs.

        `accuracy` and `macro_f1` are the headline figures: the mean over folds for
        grouped and seed; pooled over the tested clips for 'source', whose folds are
        one exercise's source each (a fold's macro-F1 there is one class's recall)."""
        accs = [f["accuracy"] for f in self.folds]
        f1s = [f["macro_f1"] for f in self.folds]
        labels = list(range(len(self.classes)))
        p, r, f, s = precision_recall_fscore_support(
            self.y_true, self.y_pred, labels=labels, zero_division=0
        )
        cm = confusion_matrix(self.y_true, self.y_pred, labels=labels)
        pooled = float(accuracy_score(self.y_true, self.y_pred))
        pooled_f1 = float(f1_score(self.y_true, self.y_pred, labels=np.unique(self.y_true), average="macro",
                                   zero_division=0))  # fmt: skip
        by_source = self.protocol == "source"
        return {
            "protocol": self.protocol,
            "model": self.model,
            "accuracy": pooled if by_source else float(np.mean(accs)),
            "macro_f1": pooled_f1 if by_source else float(np.mean(f1s)),
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "macro_f1_mean": float(np.mean(f1s)),
            "macro_f1_std": float(np.std(f1s)),
            "pooled_accuracy": pooled,
            "pooled_macro_f1": pooled_f1,
            "folds": self.folds,
            "per_class": {
                c: {
                    "precision": float(p[i]),
                    "recall": float(r[i]),
                    "f1": float(f[i]),
                    "support": int(s[i]),
                    "too_few_for_every_fold": c in self.rare,
                }
                for i, c in enumerate(self.classes)
            },  # fmt: skip
            "classes": self.classes,
            "rare_classes": self.rare,
            "confusion_matrix": cm.tolist(),
            "confusable_pairs": confusable_pairs(cm, self.classes),
            "train_seconds": self.seconds,
            "infer_ms_per_clip": self.infer_ms_per_clip,
            "config": self.config,
        }


def _run_fold(
    tracks, y, groups, classes, model_name, features, config, model_options, tta, epoch_log, item
):
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
    sources: np.ndarray | None = None,
) -> CVResult:
    """Train and test one model per fold; `log` gets a line per fold, `epoch_log` one per epoch.

    `map_folds(fn, items)` (default: the builtin map) runs the folds, lazily, in order.
    `sources` (one per clip) is needed by protocol 'source'; there `folds` is not used."""
    y, groups = np.asarray(y), np.asarray(groups)
    if protocol == "source":
        if sources is None:
            raise ValueError("protocol 'source' needs the source of every clip")
        named = source_splits(y, groups, sources)
        splits = [(tr, te) for tr, te, _, _ in named]
        held = [f"{classes[k]} / {s}" for _, _, k, s in named]
    else:
        splits = make_splits(y, groups, folds, protocol, config.seed)
        held = [None] * len(splits)
    res = CVResult(protocol=protocol, model=model_name, classes=list(classes),
                   rare=rare_classes(y, groups, classes, folds, protocol, sources),
                   config={"features": features.to_dict(), "train": asdict(config), "folds": len(splits),
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
        if held[k]:
            fold["held_out"] = held[k]
        res.folds.append(fold)
        res.histories.append({k_: v for k_, v in hist.items() if isinstance(v, list)})
        if log:
            what = f" {held[k]}" if held[k] else ""
            log(f"fold {k + 1}/{len(splits)}{what}: accuracy {fold['accuracy']:.3f}  macro-F1 "
                f"{fold['macro_f1']:.3f}  ({fold['clips']} clips, {hist['seconds']:.0f}s)")  # fmt: skip
    tested = np.sort(np.concatenate([te for _, te in splits]))
    res.tested = tested
    res.y_true, res.probs = y[tested], probs[tested]
    res.y_pred = res.probs.argmax(1)
    res.seconds = t_train
    res.infer_ms_per_clip = 1000 * t_inf / len(tested)
    return res
