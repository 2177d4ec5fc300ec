"""Does a lower sampling rate keep accuracy and rep counts? Two rates on the same clips.

Needs the whole of ../shared/data extracted at both rates (a cache per rate; the
cache key holds the rate, so one folder can hold both):

    workout extract ../shared/data/clips --cache CACHE15 --workers 2 --fps 15
    workout extract ../shared/data/clips --cache CACHE10 --workers 2 --fps 10
    python bench/fps_study.py --cache15 CACHE15 --cache10 CACHE10      # 15 against 10 (fps_study.md)
    python bench/fps_study.py --rates 10 6 --cache15 CACHE10 --cache10 CACHE6 --out bench/results/fps_study_6.md

(`--rates BASE LOWER`: the first cache is read at BASE fps, the second at LOWER.)

Accuracy: the shipped model's protocol, `trees`, grouped 5-fold (evaluate.cross_validate,
the exercises with at least 7 clips, as `workout evaluate`), for several split
seeds: the spread between seeds says how much of a difference is noise. Reps:
bench/reps.py's counter on its hand-labelled clips (the three label files), the
normalized MAE. Targets (issue 13): accuracy within 0.005 of 15 fps, rep MAE within
0.02. Writes bench/results/fps_study.md.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

import numpy as np
from common import write_table

HERE = Path(__file__).resolve().parent
LABELS = ("rep_labels.csv", "rep_labels_holdout.csv", "rep_labels_holdout2.csv")
MIN_CLIPS = 7  # as `workout evaluate`


def accuracy(data: Path, cache_dir: Path, fps: float, seeds: list[int]) -> tuple[list[float], int]:
    from workout_classifier.learn.dataset import scan_dataset
    from workout_classifier.learn.evaluate import cross_validate
    from workout_classifier.learn.models import default_features, mirror_tta
    from workout_classifier.learn.train import TrainConfig, load_training_set
    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.landmarks import PoseSettings

    clips, _ = scan_dataset(data / "clips")
    counts = Counter(c.label for c in clips)
    clips = [c for c in clips if counts[c.label] >= MIN_CLIPS]
    ts = load_training_set(clips, PoseCache(cache_dir, PoseSettings(fps=fps)))
    accs = []
    for seed in seeds:
        res = cross_validate(ts.tracks, ts.y, ts.groups, ts.classes, "trees", default_features("trees"),
                             TrainConfig(seed=seed), folds=5, protocol="grouped", tta=mirror_tta("trees"))  # fmt: skip
        accs.append(float(res.metrics()["accuracy_mean"]))
        print(f"  {fps:g} fps seed {seed}: accuracy {accs[-1]:.4f}", flush=True)
    return accs, len(ts.y)


def reps(data: Path, cache_dir: Path, fps: float) -> dict[str, tuple[float, int]]:
    from reps import run

    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.landmarks import PoseSettings

    cache = PoseCache(cache_dir, PoseSettings(fps=fps))
    out = {}
    for name in LABELS:
        rows = list(csv.DictReader(open(HERE / name)))
        _, m = run(rows, data, cache)
        out[name] = (m["mae"], len(rows))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data")
    ap.add_argument("--cache15", type=Path, required=True)
    ap.add_argument("--cache10", type=Path, required=True)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--rates", type=float, nargs=2, default=[15.0, 10.0], metavar=("BASE", "LOWER"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "fps_study.md")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    t0 = time.perf_counter()
    hi, lo = args.rates
    acc = {
        fps: accuracy(args.data, c, fps, seeds)
        for fps, c in ((hi, args.cache15), (lo, args.cache10))
    }
    rep = {fps: reps(args.data, c, fps) for fps, c in ((hi, args.cache15), (lo, args.cache10))}
    a15, a10 = np.mean(acc[hi][0]), np.mean(acc[lo][0])
    diffs = [b - a for a, b in zip(acc[hi][0], acc[lo][0], strict=True)]
    lines = [
        f"# {lo:g} fps against {hi:g} fps: accuracy and rep counts",
        "",
        f"`python bench/fps_study.py`, {time.strftime('%Y-%m-%d %H:%M')}, load average {load} at the start; "
        f"{time.perf_counter() - t0:.0f} s. Both caches: the whole of `../shared/data`, the same code and settings "
        "but the rate (pose recovery on).",
        "",
        f"Accuracy: `trees`, grouped 5-fold, exercises with at least {MIN_CLIPS} clips "
        f"({acc[hi][1]} clips at {hi:g} fps, {acc[lo][1]} at {lo:g} fps), split seeds {args.seeds}.",
        "",
        f"| split seed | {hi:g} fps | {lo:g} fps | {lo:g} - {hi:g} |",
        "| ---: | ---: | ---: | ---: |",
        *[
            f"| {s} | {a:.4f} | {b:.4f} | {b - a:+.4f} |"
            for s, a, b in zip(seeds, acc[hi][0], acc[lo][0], strict=True)
        ],  # fmt: skip
        f"| mean | {a15:.4f} | {a10:.4f} | {a10 - a15:+.4f} |",
        "",
        f"Seed-to-seed spread at {hi:g} fps: {np.ptp(acc[hi][0]):.4f} (max - min); differences {lo:g} - {hi:g} "
        f"range {min(diffs):+.4f} to {max(diffs):+.4f}.",
        f"**Accuracy target (within 0.005 of {hi:g} fps): {'met' if a10 >= a15 - 0.005 else 'MISSED'}** "
        f"(mean difference {a10 - a15:+.4f}).",
        "",
        "Reps: bench/reps.py's counter (the true exercise given), normalized MAE.",
        "",
        f"| labels | clips | {hi:g} fps | {lo:g} fps | {lo:g} - {hi:g} |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for name in LABELS:
        (m15, n), (m10, _) = rep[hi][name], rep[lo][name]
        worst = max(worst, m10 - m15)
        lines.append(f"| `bench/{name}` | {n} | {m15:.3f} | {m10:.3f} | {m10 - m15:+.3f} |")
    lines += [
        "",
        f"**Rep target (MAE within 0.02 of {hi:g} fps on every label file): {'met' if worst <= 0.02 else 'MISSED'}** "
        f"(largest increase {worst:+.3f}).",
        "",
    ]
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
