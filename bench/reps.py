"""Repetition counting on hand-labelled real clips: writes bench/results/reps.md.

Labels: bench/rep_labels.csv (counted by looking at contact sheets of the video
frames, never from this algorithm's output). Poses come from the cache; run
`workout extract ../shared/data/clips --cache cache` first.

Usage: python bench/reps.py [--data ../shared/data] [--cache cache]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from workout_classifier.extract import PoseCache
from workout_classifier.pose import PoseSequence
from workout_classifier.reps import OnlineRepCounter, count_reps
from workout_classifier.timeline import join_sequences

HERE = Path(__file__).resolve().parent


def concat(seq: PoseSequence, times: int) -> PoseSequence:
    """The clip joined to itself `times` times (landmark arrays concatenated)."""
    return join_sequences([seq] * times)[0]


def run(rows: list[dict], data: Path, cache: PoseCache) -> tuple[list[dict], dict]:
    """Count every labelled clip (and the clip joined to itself 3x); per-clip results and the metrics."""
    out = []
    t0 = time.perf_counter()
    for r in rows:
        seq = cache.load(data / "clips" / r["clip"])
        ex = r["clip"].split("/")[0]  # the true label: the counter's profile for it
        res = count_reps(seq, ex)
        res3 = count_reps(concat(seq, 3), ex)
        agnostic = count_reps(seq).reps
        out.append({**r, "pred": res.reps, "pred3": res3.reps, "true": int(r["true_reps"]), "agnostic": agnostic,
                    "online": online_count(seq, ex), "exercise": ex, "times": res.rep_times})  # fmt: skip
    true = np.array([o["true"] for o in out])
    err = np.abs(np.array([o["pred"] for o in out]) - true)
    m = {
        "mae": float(np.mean(err / true)), "obo": float(np.mean(err <= 1)), "exact": float(np.mean(err == 0)),
        "triple_ok": float(np.mean([abs(o["pred3"] - 3 * o["pred"]) <= 1 for o in out])),
        "triple_true": float(np.mean([abs(o["pred3"] - 3 * o["true"]) <= 1 for o in out])),
        "agn_mae": float(np.mean(np.abs(np.array([o["agnostic"] for o in out]) - true) / true)),
        "agn_obo": float(np.mean(np.abs(np.array([o["agnostic"] for o in out]) - true) <= 1)),
        "online_ok": float(np.mean([abs(o["online"] - o["pred"]) <= 1 for o in out])),
        "secs": time.perf_counter() - t0, "err": err, "true": true,
    }  # fmt: skip
    return out, m


def online_count(seq: PoseSequence, exercise: str) -> int:
    """The live counter fed the clip frame by frame, then told the stream ended."""
    counter = OnlineRepCounter(exercise)
    for t, w, d, lm in zip(seq.times, seq.world, seq.detected, seq.landmarks, strict=True):
        counter.update(t, w if d else None, lm if d else None)
    return counter.finish()


def metric_rows(m: dict) -> list[str]:
    return [
        "| metric | value |",
        "| --- | --- |",
        f"| normalized MAE (mean of abs error / true count) | {m['mae']:.3f} |",
        f"| off-by-one accuracy (within 1) | {m['obo']:.3f} |",
        f"| exact count | {m['exact']:.3f} |",
        f"| clip joined to itself 3x: count = 3 x single count, within 1 | {m['triple_ok']:.3f} |",
        f"| clip joined to itself 3x: count = 3 x true count, within 1 | {m['triple_true']:.3f} |",
        f"| class-agnostic count (no exercise given): normalized MAE | {m['agn_mae']:.3f} |",
        f"| class-agnostic count: off-by-one | {m['agn_obo']:.3f} |",
        f"| online counter total = offline total, within 1 | {m['online_ok']:.3f} |",
        f"| time for all clips (x4 with the tripled ones) | {m['secs']:.1f} s |",
    ]


def clip_rows(out: list[dict]) -> list[str]:
    lines = ["| clip | true | counted | online | agnostic | tripled clip | rep times (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]  # fmt: skip
    for o in out:
        times = ", ".join(f"{t:.1f}" for t in o["times"])
        lines.append(f"| {o['clip']} | {o['true']} | {o['pred']} | {o['online']} | {o['agnostic']} | {o['pred3']} "
                     f"| {times} |")  # fmt: skip
    return lines


def exercise_rows(out: list[dict], err: np.ndarray, true: np.ndarray) -> list[str]:
    lines = ["| exercise | clips | normalized MAE | off-by-one |", "| --- | ---: | ---: | ---: |"]
    for ex in sorted({o["exercise"] for o in out}):
        idx = [i for i, o in enumerate(out) if o["exercise"] == ex]
        lines.append(f"| {ex} | {len(idx)} | {np.mean(err[idx] / true[idx]):.3f} | {np.mean(err[idx] <= 1):.3f} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parents[1] / "shared" / "data"))
    ap.add_argument("--cache", default=str(HERE.parent / "cache"))
    ap.add_argument("--out", default=str(HERE / "results" / "reps.md"))
    args = ap.parse_args()
    cache, data = PoseCache(args.cache), Path(args.data)
    out, m = run(list(csv.DictReader(open(HERE / "rep_labels.csv"))), data, cache)
    err, true = m["err"], m["true"]
    lines = [
        "# Repetition counting on real clips",
        "",
        f"{len(out)} clips of `../shared/data`, true counts in `bench/rep_labels.csv`, counted by looking at",
        "contact sheets of the video frames (4 fps; 8 fps for jumping jacks). Convention: a rep counts when its",
        "turning point (bottom of a squat/push-up/lunge/dip, top of a pull-up or curl, open position of a jack)",
        "is visible and the body moves back toward the rest pose afterwards; a turning point cut off by the end",
        "of the clip is not counted. Clips that could not be counted with confidence from the frames were left out.",
        "Poses: the 15 fps MediaPipe cache. Method: `workout_classifier.reps.count_reps(seq, exercise)` (joint angles and",
        "distances in the metric hip-centred world landmarks, left/right averaged; the exercise's profile of measures,",
        "first principal component, smoothed, prominent peaks at the turning point); the agnostic column gives no exercise.",
        "The counter was tuned on these clips; the held-out section below measures it on clips it never saw.",
        "",
        *metric_rows(m),
        "",
        "For comparison, PoseRAC reports normalized MAE 0.21 and off-by-one 0.60 on RepCount (a harder set with",
        "longer clips and more reps per clip; not the same clips).",
    ]
    sections = (
        ("rep_labels_holdout.csv", "Held out: clips the counter was never tuned on", [
            "chosen by a seeded shuffle of the unlabelled 3-12 s clips of the five big exercises (3 each),",
            "counted blind to the counter's output, same convention."]),
        ("rep_labels_holdout2.csv", "Held out, new exercises: deadlift, lateral raise, chest fly", [
            "picked by a seeded shuffle (random.Random(15)) of the unlabelled 2.5-20 s clips and counted from",
            "4 fps contact sheets before the counter ever ran on them. A deadlift counts at lockout, also when",
            "the clip ends before the bar is lowered (as a lifter counts it)."]),
    )  # fmt: skip
    for name, title, intro in sections:
        if not (HERE / name).is_file():
            continue
        h_out, hm = run(list(csv.DictReader(open(HERE / name))), data, cache)
        lines += ["", f"## {title}", "", f"{len(h_out)} clips (`bench/{name}`): " + intro[0], *intro[1:], "",
                  *metric_rows(hm), "", *exercise_rows(h_out, hm["err"], hm["true"]), "", *clip_rows(h_out)]  # fmt: skip
        print(f"{name}: normalized MAE {hm['mae']:.3f}  off-by-one {hm['obo']:.3f}  exact {hm['exact']:.3f}")
    lines += ["", "## Per exercise (tuning clips)", "", *exercise_rows(out, err, true)]
    lines += ["", "## Per clip (tuning clips)", "", *clip_rows(out)]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"normalized MAE {m['mae']:.3f}  off-by-one {m['obo']:.3f}  exact {m['exact']:.3f}  triple {m['triple_ok']:.3f}")
    for o in out:
        flag = "" if o["pred"] == o["true"] else "  <--"
        print(f"{o['clip']:50s} true {o['true']} pred {o['pred']} x3 {o['pred3']}{flag}")


if __name__ == "__main__":
    main()
