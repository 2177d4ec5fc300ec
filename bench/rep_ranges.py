"""How far each exercise's defining joint moves in one rep, on the real clips (issue 27).

`python bench/rep_ranges.py --cache CACHE` counts the reps of every clip of ../shared/data's exercises
with a defining joint (analysis/motionrange.py: knee, elbow, hip or shoulder) with the exercise's own
profile (analysis/reps.py), takes each rep's range of that joint (analysis/repdetail.rep_range: metric
world landmarks, the side that moves more, a 3-frame median against glitches) and writes
bench/results/rep_ranges.md: per exercise the reps, the median range (repdetail.TYPICAL_RANGE) and its
spread, and how many reps the short-range cue (under SHORT_RANGE_SHARE of the median) and the rushed
cue flag. The CACHE must hold every clip (`workout extract DATA --cache CACHE` first).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import write_table

from workout_classifier.analysis.motionrange import DEFINING
from workout_classifier.analysis.repdetail import SHORT_RANGE_SHARE, TYPICAL_RANGE, rep_details
from workout_classifier.analysis.reps import count_reps
from workout_classifier.learn.dataset import scan_dataset
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.landmarks import PoseSettings

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "clips"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "rep_ranges.md")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared clips sit beside the checkout)")
        return
    cache = PoseCache(args.cache, PoseSettings())
    clips, _ = scan_dataset(args.data)
    ranges, clips_of, cues = defaultdict(list), defaultdict(int), defaultdict(lambda: [0, 0])
    for c in clips:
        if DEFINING.get(c.label) is None or cache.status(c.path) != "done":
            continue
        seq = cache.load(c.path)
        if not seq.detected.any():
            continue
        details = rep_details(count_reps(seq, c.label), seq)
        clips_of[c.label] += 1
        for d in details:
            if d.get("range_deg") is not None:
                ranges[c.label].append(d["range_deg"])
            cues[c.label][0] += any("short range" in x for x in d["cues"])
            cues[c.label][1] += any("rushed" in x for x in d["cues"])
    lines = [
        "# Range of motion per rep, per exercise",
        "",
        "Every clip of ../shared/data whose exercise has a defining joint, counted with that exercise's "
        "profile; each rep's range of the joint in degrees (metric world landmarks, the side that moves "
        f"more). Cues as `rep_details` gives them now: short range under {SHORT_RANGE_SHARE:.0%} of the "
        "shipped median (`repdetail.TYPICAL_RANGE`, blank until set from this table), rushed under half "
        "the clip's median rep duration.",
        "",
        "| exercise | joint | clips | reps | median ° (TYPICAL_RANGE) | p10 ° | p90 ° | shipped median ° "
        "| reps cued short range | reps cued rushed |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in sorted(ranges):
        r = np.asarray(ranges[name])
        lines.append(
            f"| {name} | {DEFINING[name]} | {clips_of[name]} | {len(r)} | {np.median(r):.0f} | "
            f"{np.percentile(r, 10):.0f} | {np.percentile(r, 90):.0f} | {TYPICAL_RANGE.get(name, '')} | "
            f"{cues[name][0]} | {cues[name][1]} |"
        )
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
