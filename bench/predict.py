"""End-to-end speed of `workout predict` with the shipped model: video file -> answer.

No cache: each clip is decoded, its poses extracted at the model's 15 fps and
classified, as a user's first run does. Reports seconds per clip and how many
seconds of video one second of CPU handles, for 1 worker. Writes
bench/results/predict.md.

Usage: python bench/predict.py [--clips 12]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from workout_classifier.checkpoint import Classifier
from workout_classifier.dataset import scan_dataset
from workout_classifier.predict import predict_videos
from workout_classifier.video import probe

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "clips")
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "predict.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared clips sit beside the checkout)")
        return
    clips, _ = scan_dataset(args.data)
    rng = np.random.default_rng(0)
    pick = [clips[i] for i in sorted(rng.choice(len(clips), size=min(args.clips, len(clips)), replace=False))]
    t0 = time.perf_counter()
    clf = Classifier.load()
    load_s = time.perf_counter() - t0
    rows = []
    for c in pick:
        dur = probe(c.path).duration
        t0 = time.perf_counter()
        res = predict_videos([c.path], clf)[0]
        rows.append((c.name, dur, time.perf_counter() - t0, res["label"] or res["error"]))
    total_video = sum(r[1] for r in rows)
    total_s = sum(r[2] for r in rows)
    cpu = platform.processor() or platform.machine()
    lines = [
        "# End-to-end prediction speed",
        "",
        f"Shipped model (`{clf.model_name}`, mirror TTA {'on' if clf.extra.get('tta') else 'off'}), "
        f"{len(rows)} clips picked at random (seed 0) from `../shared/data/clips`, no cache, 1 worker; "
        f"{os.cpu_count()} cores ({cpu}), {time.strftime('%Y-%m-%d')}. Model load: {load_s:.2f} s (once).",
        "",
        "| clip | video s | predict s | answer |",
        "| --- | ---: | ---: | --- |",
        *[f"| {n} | {d:.1f} | {s:.2f} | {a} |" for n, d, s, a in rows],
        "",
        f"Total: {total_video:.1f} s of video in {total_s:.1f} s, {total_video / total_s:.2f} s of video per second; "
        f"median {np.median([r[2] for r in rows]):.2f} s per clip.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
