"""Timeline of long videos, measured on real clips joined end to end (known boundaries).

Honest by construction: a model (default: trees, the shipped kind) is fitted on the training
clips of grouped fold 1 of the five big exercises; sessions are built only from
that fold's test clips. Each session is 3 segments of different exercises, each
segment several clips of one exercise joined (12-25 s), so the true label of
every instant and the true boundaries are known. Reports the share of time
labelled right, the boundary error, and how often the segment count is right.
Writes bench/results/timeline.md.

Usage: python bench/timeline.py [--sessions 30] [--cache cache] [--model trees]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import cached_five, write_table

from workout_classifier.analysis.timeline import (
    MIN_SEGMENT,
    SEVERAL_SECONDS,
    build_timeline,
    join_sequences,
    several_exercises,
)
from workout_classifier.learn.evaluate import make_splits
from workout_classifier.learn.models import default_features
from workout_classifier.learn.train import TrainConfig, fit
from workout_classifier.pose.cache import PoseCache
from workout_classifier.predict import timeline_windows

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "clips")
    ap.add_argument("--cache", type=Path, default=HERE.parent / "cache")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--model", default="trees", help="registry name (trained on fold 1's training clips)"
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "timeline.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared clips sit beside the checkout)")
        return
    clips, ts = cached_five(args.data, args.cache)
    cache = PoseCache(args.cache)
    good = [c for c in clips if str(c.path) not in {s["file"] for s in ts.skipped}]
    tr, te = make_splits(ts.y, ts.groups, 5, "grouped", seed=0)[0]
    t0 = time.perf_counter()
    feats = default_features(args.model)
    clf, _ = fit([ts.tracks[i] for i in tr], ts.y[tr], ts.groups[tr], ts.classes, args.model,
                 feats, TrainConfig(seed=0, threads=1))  # fmt: skip
    train_s = time.perf_counter() - t0

    rng = np.random.default_rng(args.seed)
    by_class = {k: [i for i in te if ts.y[i] == k] for k in range(len(ts.classes))}
    rows, step = [], 0.5
    for _ in range(args.sessions):
        labels = rng.choice(len(ts.classes), size=3, replace=False)
        parts, truth = [], []
        for k in labels:
            dur, idx = 0.0, []
            while dur < 12.0:  # several test clips of one exercise make one segment
                i = int(rng.choice(by_class[k]))
                idx.append(i)
                dur += ts.tracks[i].duration
                if dur > 25:
                    break
            for i in idx:
                parts.append(cache.load(good[i].path))
                truth.append(k)
        seq, joins = join_sequences(parts)
        # True segment boundaries are the joins where the exercise changes.
        starts = [0.0] + joins
        seg_bounds = [starts[j] for j in range(1, len(parts)) if truth[j] != truth[j - 1]]
        probs, win_starts = timeline_windows(seq, clf)  # the windows `predict --timeline` reads
        segs = build_timeline(seq, probs, win_starts, clf.classes, clf.features.window_seconds,
                              reps=False)  # fmt: skip
        grid = np.arange(0, seq.times[-1], step)
        true_lab = np.array(
            [truth[int(np.searchsorted(starts, t, side="right")) - 1] for t in grid]
        )
        pred_lab = np.full(len(grid), -1)
        for s in segs:
            pred_lab[(grid >= s["start"]) & (grid < s["end"] + 1e-9)] = ts.classes.index(s["label"])
        found = [s["start"] for s in segs[1:]]
        errs = [
            min(abs(b - f) for f in found) if found else float(seq.times[-1]) for b in seg_bounds
        ]
        several = [e["label"] for e in several_exercises(segs)]
        rows.append({"frame_acc": float((pred_lab == true_lab).mean()), "errs": errs,
                     "n_ok": len(segs) == 3, "length": float(seq.times[-1]), "several": bool(several),
                     "several_ok": sorted(several) == sorted(ts.classes[k] for k in labels)})  # fmt: skip

    # predict's `exercises`: is a clip of one exercise ever said to hold several?
    singles = []
    for i in te:
        seq = cache.load(good[i].path)
        probs, win_starts = timeline_windows(seq, clf)
        segs = build_timeline(seq, probs, win_starts, clf.classes, clf.features.window_seconds,
                              reps=False)  # fmt: skip
        singles.append(bool(several_exercises(segs)))

    acc = np.array([r["frame_acc"] for r in rows])
    errs = np.concatenate([r["errs"] for r in rows])
    lines = [
        "# Timeline on real clips joined end to end",
        "",
        f"{args.sessions} sessions, each 3 segments of different exercises (every segment several test clips of one "
        f"exercise joined, 12-25 s); model `{args.model}` trained on the training clips of grouped fold 1 "
        f"({len(tr)} clips, {train_s:.0f} s), sessions built only from that fold's {len(te)} test clips. "
        f"Session length {np.mean([r['length'] for r in rows]):.0f} s on average. Step {step} s. Shortest segment "
        f"kept {MIN_SEGMENT:g} s (timeline.MIN_SEGMENT, chosen on sessions of fold 2, not these).",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| share of time labelled right (mean +- std over sessions) | {acc.mean():.3f} +- {acc.std():.3f} |",
        f"| boundary error, median | {np.median(errs):.2f} s |",
        f"| boundary error, mean | {errs.mean():.2f} s |",
        f"| boundaries found within 2 s | {(errs <= 2).mean():.3f} |",
        f"| sessions with exactly 3 segments | {np.mean([r['n_ok'] for r in rows]):.3f} |",
        f"| sessions said to hold several exercises (predict's `exercises`, {SEVERAL_SECONDS:g} s or more "
        f"of each) | {np.mean([r['several'] for r in rows]):.3f} |",
        f"| ... naming exactly their 3 | {np.mean([r['several_ok'] for r in rows]):.3f} |",
        f"| single test clips said to hold several ({len(singles)} clips, "
        f"{np.median([ts.tracks[i].duration for i in te]):.0f} s median, "
        f"{max(ts.tracks[i].duration for i in te):.0f} s longest) | {np.mean(singles):.3f} "
        f"({sum(singles)}) |",
        "",
        "Reproduce: `python bench/timeline.py` (needs the pose cache of `../shared/data/clips`).",
        "",
    ]
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
