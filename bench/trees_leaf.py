"""How big the trees' leaves should be: both protocols per leaf size (issue 11).

`python bench/trees_leaf.py --cache CACHE [--leaves 2 10 20 30 40 60 100] [--seeds 0 1]` on the
nine exercises of ../shared/data. Window summaries are computed once; for every leaf size (windows
per leaf, scikit-learn's min_samples_leaf, everything else as models/trees.py) and trees seed, the
trees are grown per fold of grouped 5-fold (split seed 0) and of leave-source-out, and clip
probabilities are the mean over a clip's windows, as `workout evaluate` does. Writes
bench/results/trees_leaf.md. The CACHE must hold the clips (`workout extract` first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
from common import write_table
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.metrics import accuracy_score, f1_score

from workout_classifier.learn.dataset import scan_dataset
from workout_classifier.learn.evaluate import make_splits
from workout_classifier.learn.features import clip_probs, eval_windows
from workout_classifier.learn.models import default_features
from workout_classifier.learn.models.trees import Config
from workout_classifier.learn.summary import window_summary
from workout_classifier.learn.train import load_training_set
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.landmarks import PoseSettings

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "clips"


def protocol(ts, s, owner, proto: str, leaf: int, seed: int) -> dict:
    y, k = ts.y, len(ts.classes)
    pred, accs, tested = np.full(len(y), -1), [], np.zeros(len(y), bool)
    for tr, te in make_splits(y, ts.groups, 5, proto, 0, sources=ts.sources):
        w_tr, w_te = np.isin(owner, tr), np.isin(owner, te)
        weight = 1.0 / np.bincount(owner[w_tr])[owner[w_tr]]  # each clip counts once
        et = ExtraTreesClassifier(n_estimators=Config.trees, min_samples_leaf=leaf, class_weight="balanced",
                                  max_features=Config.max_features, random_state=seed, n_jobs=-1)  # fmt: skip
        et.fit(s[w_tr], y[owner[w_tr]], sample_weight=weight)
        p = np.zeros((w_te.sum(), k))
        p[:, et.classes_] = et.predict_proba(s[w_te])
        pred[te] = clip_probs(p, np.searchsorted(te, owner[w_te]), len(te)).argmax(1)
        tested[te] = True
        accs.append(accuracy_score(y[te], pred[te]))
    yt, pt = y[tested], pred[tested]
    per = f1_score(yt, pt, labels=range(k), average=None, zero_division=0)
    return {"acc": float(np.mean(accs)), "std": float(np.std(accs)), "pooled": accuracy_score(yt, pt),
            "f1": f1_score(yt, pt, labels=np.unique(yt), average="macro"), "per": per}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--leaves", type=int, nargs="*", default=[2, 10, 20, 30, 40, 60, 100])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "trees_leaf.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared clips sit beside the checkout)")
        return
    t0 = time.time()
    clips, _ = scan_dataset(args.data)
    n = Counter(c.label for c in clips)
    ts = load_training_set(
        [c for c in clips if n[c.label] >= 7], PoseCache(args.cache, PoseSettings())
    )
    raw, owner = eval_windows(ts.tracks, default_features("trees"))
    s = window_summary(raw)
    rows, low = [], []
    for leaf in args.leaves:
        for seed in args.seeds:
            g, src = (protocol(ts, s, owner, p, leaf, seed) for p in ("grouped", "source"))
            worst = int(np.argmin(g["per"]))
            rows.append(f"| {leaf} | {seed} | {g['acc']:.3f} +- {g['std']:.3f} | {g['f1']:.3f} | "
                        f"{ts.classes[worst]} {g['per'][worst]:.2f} | {src['pooled']:.3f} | {src['f1']:.3f} | "
                        f"{(g['f1'] + src['f1']) / 2:.3f} |")  # fmt: skip
            low.append(f"| {leaf} | {seed} | " + " | ".join(f"{v:.2f}" for v in g["per"]) + " |")
            print(rows[-1], flush=True)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "# Trees: windows per leaf, both protocols",
        "",
        f"`python bench/trees_leaf.py --cache CACHE`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{time.time() - t0:.0f} s, load average {load} at the end. {len(ts.y)} clips of {len(ts.classes)} "
        f"exercises, {len(raw)} windows, pose version {PoseSettings.VERSION} at {PoseSettings().fps:g} fps. "
        "Leaf: min_samples_leaf (a grouped training fold holds about 4/5 of the windows); seed: the trees' "
        "random_state (folds: split seed 0). Source: leave one source of an exercise out, pooled over folds.",
        "",
        "| windows per leaf | seed | grouped accuracy | grouped macro-F1 | lowest F1 (grouped) | source accuracy "
        "| source macro-F1 | mean macro-F1 |",
        "| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: |",
        *rows,
        "",
        "## Grouped F1 per exercise",
        "",
        "| windows per leaf | seed | " + " | ".join(ts.classes) + " |",
        "| ---: | ---: | " + " | ".join("---:" for _ in ts.classes) + " |",
        *low,
        "",
    ]
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
