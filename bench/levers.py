"""Accuracy levers, measured three ways at once: grouped CV, leave-source-out CV and new sources.

For each variant (model options and training settings of the `trees` model) and seed:
- grouped: StratifiedGroupKFold(5) over every clip, accuracy mean +- std over folds, pooled macro-F1;
- source: leave one source of an exercise out (learn.evaluate.source_splits), pooled accuracy and macro-F1;
- new sources: trained (with its `unknown` gate, as `workout train` does) on every clip except the
  `<owner>__<file>` clips of ../shared/data (sources nothing else comes from) and their scene groups,
  then asked about those clips through the product's path (predict.classify_sequence): right with the
  gate (`unknown` counts as wrong) and without it.
Writes bench/results/levers.md (one row per variant, the mean over seeds, and the per-class F1
and the confusions that moved against the first variant).

    python bench/levers.py --cache CACHE [--variants base mirror ...] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from common import without_new_sources, write_table
from sklearn.metrics import f1_score

from workout_classifier.api import MIN_CLIPS, cross_validate_training_set, fit_training_set
from workout_classifier.learn.dataset import scan_dataset
from workout_classifier.learn.train import load_training_set
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.landmarks import PoseSettings
from workout_classifier.predict import classify_sequence

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "clips"
OUT = HERE / "results" / "levers.md"

# name: (description, trees model options, TrainConfig fields)
VARIANTS = {
    "base": (
        "shipped settings (trees, rep windows, asymmetry block, leaf share 0.025, max features 0.1)",
        {},
        {},
    ),
    "no-asym": (
        "without the summary's asymmetry block (shipped until 2026-12-06 evening)",
        {"asymmetry": False},
        {},
    ),
    "camera": ("+ 1 camera-augmented copy of each window", {}, {"camera_copies": 1}),
    "speed": ("+ time-stretched copies (0.8x, 1.25x) of each window", {}, {"speed_copies": 2}),
    "mirror": ("+ a mirrored copy of each window", {}, {"mirror_copies": True}),
    "leaf40": ("leaf share 0.04", {"leaf_share": 0.04}, {}),
    "gate-source": (
        "gate fitted on grouped and leave-source-out predictions",
        {},
        {},
        {"gate_on": "grouped+source"},
    ),
    "trees400": ("400 trees", {"trees": 400}, {}),
    "time": (
        "4 s windows, hop 2 s (the shipped unit until 2026-12-06)",
        {},
        {},
        {"features": {"unit": "time"}},
    ),
    "rep+time": ("rep windows added to the time windows", {}, {}, {"features": {"unit": "both"}}),
}


def new_source_figures(ts, clips, cache, options, train_config, seed, fit_kwargs) -> dict:
    """Trained without the owner clips (and their groups), asked about them as predict asks."""
    new, train = without_new_sources(ts)
    model = fit_training_set(train, cache.settings, "trees", seed=seed,
                             options={**options, "seed": seed}, train_config=train_config, **fit_kwargs)  # fmt: skip
    by_name = {c.name: c for c in clips}
    right = right_gated = 0
    rows = []
    for i in np.flatnonzero(new):
        truth = ts.classes[ts.y[i]]
        ans = classify_sequence(cache.load(by_name[ts.names[i]].path), model.classifier)
        right += ans["top"][0]["label"] == truth
        right_gated += ans["label"] == truth
        rows.append((ts.names[i], ans["label"], ans["top"][0]["label"]))
    n = int(new.sum())
    return {"new_acc": right / n, "new_acc_gated": right_gated / n, "new_n": n, "new_rows": rows}


def measure(ts, clips, cache, name: str, seed: int) -> dict:
    _, options, train_config, *more = VARIANTS[name]
    fit_kwargs = more[0] if more else {}  # fit_training_set's own options (gate_on)
    opts = {**options, "seed": seed}
    feats = fit_kwargs.get("features")
    g = cross_validate_training_set(
        ts, "trees", folds=5, seed=seed, options=opts, train_config=train_config, features=feats
    )
    s = cross_validate_training_set(ts, "trees", protocol="source", seed=seed, options=opts,
                                    train_config=train_config, features=feats)  # fmt: skip
    gm, sm = g.metrics(), s.metrics()
    out = {"grouped_acc": gm["accuracy_mean"], "grouped_std": gm["accuracy_std"],
           "grouped_f1": f1_score(g.y_true, g.y_pred, average="macro"),
           "source_acc": sm["accuracy"], "source_f1": sm["macro_f1"],
           "per_class_grouped": {c: r["f1"] for c, r in gm["per_class"].items()},
           "per_class_source": {c: r["f1"] for c, r in sm["per_class"].items()},
           "confused_grouped": gm.get("confusable_pairs", []),
           "confused_source": sm.get("confusable_pairs", [])}  # fmt: skip
    out.update(new_source_figures(ts, clips, cache, options, train_config, seed, fit_kwargs))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="cache")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--min-clips", type=int, default=MIN_CLIPS)
    args = ap.parse_args()
    clips, _ = scan_dataset(DATA)
    counts = Counter(c.label for c in clips)
    clips = [c for c in clips if counts[c.label] >= args.min_clips]
    cache = PoseCache(args.cache, PoseSettings())
    ts = load_training_set(clips, cache)
    runs = {}
    for v in args.variants:
        runs[v] = [measure(ts, clips, cache, v, s) for s in args.seeds]
        print(v, json.dumps({k: round(np.mean([r[k] for r in runs[v]]), 3) for k in
                             ("grouped_acc", "grouped_f1", "source_acc", "source_f1", "new_acc", "new_acc_gated")}))  # fmt: skip
    lines = [
        "# Accuracy levers: grouped, leave-source-out and new sources",
        "",
        f"`trees` on {len(ts.y)} clips of {len(ts.classes)} exercises ({', '.join(ts.classes)}), pose cache of "
        f"../shared/data at the default pose settings; seeds {args.seeds} (fold split and trees), the mean over them. "
        f"New sources: the {runs[args.variants[0]][0]['new_n']} `<owner>__` clips, by a model trained without them "
        "(gate: `unknown` counts as wrong).",
        "",
        "| variant | grouped accuracy | grouped macro-F1 | source accuracy | source macro-F1 | new sources | new sources, gated |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for v, rs in runs.items():
        m = {k: np.mean([r[k] for r in rs]) for k in rs[0] if isinstance(rs[0][k], float)}
        lines.append(f"| {v}: {VARIANTS[v][0]} | {m['grouped_acc']:.3f} +- {m['grouped_std']:.3f} | "
                     f"{m['grouped_f1']:.3f} | {m['source_acc']:.3f} | {m['source_f1']:.3f} | {m['new_acc']:.3f} | "
                     f"{m['new_acc_gated']:.3f} |")  # fmt: skip
    lines += ["", "Per-class F1 (grouped / source), first seed:", "",
              "| variant | " + " | ".join(ts.classes) + " |", "| --- |" + " ---: |" * len(ts.classes)]  # fmt: skip
    for v, rs in runs.items():
        pg, ps = rs[0]["per_class_grouped"], rs[0]["per_class_source"]
        lines.append(
            f"| {v} | "
            + " | ".join(f"{pg.get(c, 0):.2f} / {ps.get(c, 0):.2f}" for c in ts.classes)
            + " |"
        )
    lines += ["", "Most confused pairs (grouped; source), first seed:", ""]
    for v, rs in runs.items():
        pairs = "; ".join(
            f"{p['pair'][0]} / {p['pair'][1]} {p['count']}" for p in rs[0]["confused_grouped"][:4]
        )
        spairs = "; ".join(
            f"{p['pair'][0]} / {p['pair'][1]} {p['count']}" for p in rs[0]["confused_source"][:4]
        )
        lines.append(f"- {v}: {pairs}; source: {spairs}")
    lines += ["", "New-source clips, first seed (label with the gate / best guess):", ""]
    for v, rs in runs.items():
        wrong = [
            f"{n} -> {lab} ({best})" for n, lab, best in rs[0]["new_rows"] if n.split("/")[0] != lab
        ]
        lines.append(f"- {v}: {len(wrong)} wrong: " + "; ".join(wrong))
    write_table(lines, OUT)


if __name__ == "__main__":
    main()
