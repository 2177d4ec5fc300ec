"""Does sampling at 10 fps keep accuracy and rep counts? 15 fps against 10 fps on the same clips.

Needs the whole of ../shared/data extracted at both rates (a cache per rate; the
cache key holds the rate, so one folder can hold both):

    workout extract ../shared/data/clips --cache CACHE15 --workers 2             # 15 fps
    workout extract ../shared/data/clips --cache CACHE10 --workers 2 --fps 10
    python bench/fps_study.py --cache15 CACHE15 --cache10 CACHE10

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
    from workout_classifier.dataset import scan_dataset
    from workout_classifier.evaluate import cross_validate
    from workout_classifier.extract import PoseCache
    from workout_classifier.models import default_features, mirror_tta
    from workout_classifier.pose import PoseSettings
    from workout_classifier.train import TrainConfig, load_training_set

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

    from workout_classifier.extract import PoseCache
    from workout_classifier.pose import PoseSettings

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
    ap.add_argument("--out", type=Path, default=HERE / "results" / "fps_study.md")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    t0 = time.perf_counter()
    acc = {fps: accuracy(args.data, c, fps, seeds) for fps, c in ((15.0, args.cache15), (10.0, args.cache10))}
    rep = {fps: reps(args.data, c, fps) for fps, c in ((15.0, args.cache15), (10.0, args.cache10))}
    a15, a10 = np.mean(acc[15.0][0]), np.mean(acc[10.0][0])
    diffs = [b - a for a, b in zip(acc[15.0][0], acc[10.0][0], strict=True)]
    lines = [
        "# 10 fps against 15 fps: accuracy and rep counts",
        "",
        f"`python bench/fps_study.py`, {time.strftime('%Y-%m-%d %H:%M')}, load average {load} at the start; "
        f"{time.perf_counter() - t0:.0f} s. Both caches: the whole of `../shared/data`, the same code and settings "
        "but the rate (pose recovery on).",
        "",
        f"Accuracy: `trees`, grouped 5-fold, exercises with at least {MIN_CLIPS} clips "
        f"({acc[15.0][1]} clips at 15 fps, {acc[10.0][1]} at 10 fps), split seeds {args.seeds}.",
        "",
        "| split seed | 15 fps | 10 fps | 10 - 15 |",
        "| ---: | ---: | ---: | ---: |",
        *[f"| {s} | {a:.4f} | {b:.4f} | {b - a:+.4f} |" for s, a, b in zip(seeds, acc[15.0][0], acc[10.0][0],
                                                                           strict=True)],  # fmt: skip
        f"| mean | {a15:.4f} | {a10:.4f} | {a10 - a15:+.4f} |",
        "",
        f"Seed-to-seed spread at 15 fps: {np.ptp(acc[15.0][0]):.4f} (max - min); differences 10 - 15 range "
        f"{min(diffs):+.4f} to {max(diffs):+.4f}.",
        f"**Accuracy target (within 0.005 of 15 fps): {'met' if a10 >= a15 - 0.005 else 'MISSED'}** "
        f"(mean difference {a10 - a15:+.4f}).",
        "",
        "Reps: bench/reps.py's counter (the true exercise given), normalized MAE.",
        "",
        "| labels | clips | 15 fps | 10 fps | 10 - 15 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for name in LABELS:
        (m15, n), (m10, _) = rep[15.0][name], rep[10.0][name]
        worst = max(worst, m10 - m15)
        lines.append(f"| `bench/{name}` | {n} | {m15:.3f} | {m10:.3f} | {m10 - m15:+.3f} |")
    lines += [
        "",
        f"**Rep target (MAE within 0.02 of 15 fps on every label file): {'met' if worst <= 0.02 else 'MISSED'}** "
        f"(largest increase {worst:+.3f}).",
        "",
    ]
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
