"""Pose recovery benchmark: share of frames with a person, with and without recovery.

Runs extraction twice on each chosen clip (recover off, recover on) and prints a
table per exercise: frames with a person before/after, clips with nobody at all
before/after, and extraction seconds before/after. Writes
bench/results/pose_recovery.md. `--per-exercise N` limits the clips (time).

    flock /work/cpu.lock .venv/bin/python bench/pose_recovery.py --clips "bench press/v_BenchPress_g20_c01.mp4"
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from pathlib import Path

from workout_classifier.pose import PoseSettings, extract_pose

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "clips"


def measure(clip: Path) -> dict:
    out = {}
    for recover in (False, True):
        t = time.perf_counter()
        seq = extract_pose(clip, PoseSettings(recover=recover))
        out[recover] = (seq.detection_rate, time.perf_counter() - t, seq.num_frames)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", nargs="*", default=[], help="paths under the data root, exercise/file")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "pose_recovery.md"))
    args = ap.parse_args()
    by = defaultdict(list)
    lines = ["| clip | frames | person found before | after | seconds before | after |", "|---|---|---|---|---|---|"]
    for rel in args.clips:
        clip = DATA / rel
        m = measure(clip)
        by[rel.split("/")[0]].append(m)
        (b, tb, n), (a, ta, _) = m[False], m[True]
        lines.append(f"| {rel} | {n} | {b:.2f} | {a:.2f} | {tb:.1f} | {ta:.1f} |")
        print(lines[-1], flush=True)
    lines += ["", "| exercise | clips | frames found before | after | no-person clips before | after | s before | after |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for ex, ms in by.items():
        n = sum(m[False][2] for m in ms)
        fb = sum(m[False][0] * m[False][2] for m in ms) / n
        fa = sum(m[True][0] * m[True][2] for m in ms) / n
        zb = sum(m[False][0] == 0 for m in ms)
        za = sum(m[True][0] == 0 for m in ms)
        sb, sa = sum(m[False][1] for m in ms), sum(m[True][1] for m in ms)
        lines.append(f"| {ex} | {len(ms)} | {fb:.2f} | {fa:.2f} | {zb} | {za} | {sb:.1f} | {sa:.1f} |")
    load = os.getloadavg()
    lines += ["", f"Load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (2 cores, shared)."]
    text = "# Pose recovery\n\n" + "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
