"""Repetition counting on hand-labelled real clips: writes bench/results/reps.md.

Labels (the sets are named in replabels.py): bench/rep_labels.csv, rep_labels_tune2.csv to rep_labels_tune5.csv (tuning), rep_labels_holdout*.csv (held out,
never tuned on), hold_labels.csv (plank seconds), all counted by looking at contact sheets of the
video frames, never from this algorithm's output. Poses come from the cache; run
`workout extract ../shared/data/clips --cache cache` first.

Usage: python bench/reps.py [--data ../shared/data] [--cache cache]
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np
from common import write_table
from replabels import HELD_OUT, LEFT_OUT, NEWSOURCE_TUNE, PER_EXERCISE_NOTES, TUNING, labels

from workout_classifier.analysis.replive import OnlineRepCounter
from workout_classifier.analysis.reps import count_reps
from workout_classifier.analysis.timeline import join_sequences
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.landmarks import PoseSequence

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


def exercise_rows(
    out: list[dict], err: np.ndarray, true: np.ndarray, targets: bool = False
) -> list[str]:
    """Per exercise: clips, normalized MAE, off-by-one (and whether the issue-27 targets are met)."""
    head = "| exercise | clips | normalized MAE | off-by-one |" + (
        " meets <= 0.12 / >= 0.92 |" if targets else ""
    )
    lines = [head, "| --- | ---: | ---: | ---: |" + (" --- |" if targets else "")]
    for ex in sorted({o["exercise"] for o in out}):
        idx = [i for i, o in enumerate(out) if o["exercise"] == ex]
        mae, obo = np.mean(err[idx] / true[idx]), np.mean(err[idx] <= 1)
        ok = f" {'yes' if mae <= 0.12 and obo >= 0.92 else 'no'} |" if targets else ""
        lines.append(f"| {ex} | {len(idx)} | {mae:.3f} | {obo:.3f} |{ok}")
    return lines


def source_of(clip: str) -> str:
    """Where a clip comes from: the owner of a new-source clip (`<owner>__<file>`), UCF101, or other."""
    name = clip.split("/")[-1]
    return (
        name.split("__")[0]
        if "__" in name
        else "UCF101"
        if name.startswith("v_")
        else "other (Kaggle, web)"
    )


def source_rows(parts: list[tuple[str, list[dict]]]) -> list[str]:
    """Grouped by source: one row per (set, source) with its exercises and the two metrics."""
    lines = ["| set | source | clips | exercises | normalized MAE | off-by-one |",
             "| --- | --- | ---: | --- | ---: | ---: |"]  # fmt: skip
    for part, out in parts:
        for src in sorted({source_of(o["clip"]) for o in out}):
            g = [o for o in out if source_of(o["clip"]) == src]
            err = np.array([abs(o["pred"] - o["true"]) for o in g])
            true = np.array([o["true"] for o in g])
            exs = ", ".join(sorted({o["exercise"] for o in g}))
            lines.append(
                f"| {part} | {src} | {len(g)} | {exs} | {np.mean(err / true):.3f} | {np.mean(err <= 1):.3f} |"
            )
    return lines


def hold_rows(data: Path, cache: PoseCache) -> list[str]:
    """Plank clips: measured hold seconds against the hand-timed ones (bench/hold_labels.csv)."""
    rows = list(csv.DictReader(open(HERE / "hold_labels.csv")))
    lines = ["| clip | used for tuning | true hold (s) | measured (s) | online (s) | abs error (s) |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    errs = []
    for r in rows:
        seq = cache.load(data / "clips" / r["clip"])
        got = count_reps(seq, "plank").hold_seconds or 0.0
        counter = OnlineRepCounter("plank")
        for t, w, d, lm in zip(seq.times, seq.world, seq.detected, seq.landmarks, strict=True):
            counter.update(t, w if d else None, lm if d else None)
        err = abs(got - float(r["true_seconds"]))
        if r["tuning"] == "no":
            errs.append(err)
        lines.append(f"| {r['clip']} | {r['tuning']} | {float(r['true_seconds']):.1f} | {got:.1f} "
                     f"| {counter.hold_seconds:.1f} | {err:.1f} |")  # fmt: skip
    within = np.mean(np.array(errs) <= 1.0)
    head = [f"{len(rows)} plank clips (`bench/hold_labels.csv`), timed from contact sheets. On the {len(errs)} held-out "
            f"ones: within 1 s **{within:.2f}** ({int(round(within * len(errs)))}/{len(errs)}), mean abs error "
            f"{np.mean(errs):.2f} s, worst {np.max(errs):.1f} s. These are short clips held from the first frame to "
            "the last. plank_smayan (a 66 s tutorial: lying, knee plank, all fours, forearm plank 31.0-47.2 s, "
            "leg lifts) was measured at 50.9 s against 16.2 s with the old plank test (lying flat and kneeling "
            "passed as a plank); the test was then changed (legs straight, upper arms near vertical), so that clip "
            "is marked as used for tuning; it is still off (row below: the knee plank at 8-18 s and the move into the leg lifts pass).", ""]  # fmt: skip
    print(f"plank hold (held out) within 1 s {within:.2f}  mean abs error {np.mean(errs):.2f} s")
    return head + lines


def lunge_line(out: list[dict]) -> str:
    lun = [o for o in out if o["exercise"] == "lunges"]
    ok = sum(abs(o["pred"] - o["true"]) <= 1 for o in lun)
    return f"Lunges within one rep: {ok}/{len(lun)} clips ({ok / max(len(lun), 1):.2f}; target >= 0.80)."


def online_exceptions(out: list[dict]) -> list[str]:
    bad = [o for o in out if abs(o["online"] - o["pred"]) > 1]
    if not bad:
        return [f"Online total within one rep of the offline total on all {len(out)} clips."]
    return [f"Online total off the offline total by more than one rep on {len(bad)} of {len(out)} clips: "
            + ", ".join(f"{o['clip']} ({o['online']} vs {o['pred']})" for o in bad) + "."]  # fmt: skip


def earlier_held_rows(held: list[dict]) -> list[str]:
    """Per exercise on the held-out sets of the earlier passes only (comparable with their figures), and push
    up without pushfit-wrong60, which a tuning clip added in the fourth pass shares a person and room with."""
    old = [o for o in held if o["file"] != "rep_labels_holdout6.csv"]
    err = np.array([abs(o["pred"] - o["true"]) for o in old])
    true = np.array([o["true"] for o in old])
    push = [
        o for o in held if o["exercise"] == "push up" and o["clip"] != "push up/pushfit-wrong60.mp4"
    ]
    p_err = np.array([abs(o["pred"] - o["true"]) for o in push])
    p_true = np.array([o["true"] for o in push])
    return [
        f"The {len(old)} held-out clips of the earlier passes only (without `rep_labels_holdout6.csv`), per exercise:",
        "", *exercise_rows(old, err, true, targets=True), "",
        f"Push up held out without pushfit-wrong60 (not independent since the fourth pass: the tuning clip "
        f"pushfit-wrong57 is the same person and kitchen): {len(push)} clips, normalized MAE "
        f"{np.mean(p_err / p_true):.3f}, off-by-one {np.mean(p_err <= 1):.3f}.",
    ]  # fmt: skip


def newsource_section(held: list[dict], tune: list[dict]) -> list[str]:
    """The 25 new-source clips (issue 27): held-out part per exercise, and both parts grouped by source."""
    err = np.array([abs(o["pred"] - o["true"]) for o in held])
    true = np.array([o["true"] for o in held])
    return [
        "## New sources (issue 27): people, rooms and cameras nothing else comes from", "",
        f"`bench/rep_labels_newsource.csv`: {len(held)} held-out clips (6 of the 11 new sources and the web "
        f"jumping-jack clip) and {len(tune)} tuning clips (the other 5 sources), split by source before the counter",
        "ran on them. j-lederer__squatbad.mp4 was looked at and left out: 2.2 s of one descent, 0 whole reps",
        "(normalized MAE cannot take a true 0). Held out, per exercise:", "",
        *exercise_rows(held, err, true, targets=True), "",
        "Grouped by source (tune: the part the counter may be tuned on; held: never tuned on):", "",
        *source_rows([("held", held), ("tune", tune)]),
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parents[1] / "shared" / "data"))
    ap.add_argument("--cache", default=str(HERE.parent / "cache"))
    ap.add_argument("--out", default=str(HERE / "results" / "reps.md"))
    args = ap.parse_args()
    cache, data = PoseCache(args.cache), Path(args.data)
    tuning = [r for name, part in TUNING for r in labels(name, part)]
    out, m = run(tuning, data, cache)
    err, true = m["err"], m["true"]
    held_sections, held_all, new_held = [], [], []
    for name, part, title, intro in HELD_OUT:
        h_out, hm = run(labels(name, part), data, cache)
        held_all += [dict(r, clip=r["clip"], file=name) for r in h_out]
        new_held = h_out if name == "rep_labels_newsource.csv" else new_held
        held_sections += ["", f"## {title}", "", f"{len(h_out)} clips (`bench/{name}`): " + intro[0], *intro[1:], "",
                          *metric_rows(hm), "", *exercise_rows(h_out, hm["err"], hm["true"]), "", *clip_rows(h_out)]  # fmt: skip
        print(
            f"{name}: normalized MAE {hm['mae']:.3f}  off-by-one {hm['obo']:.3f}  exact {hm['exact']:.3f}"
        )
    h_true = np.array([o["true"] for o in held_all])
    h_err = np.abs(np.array([o["pred"] for o in held_all]) - h_true)
    h_mae, h_obo = float(np.mean(h_err / h_true)), float(np.mean(h_err <= 1))
    print(f"all held out ({len(held_all)}): normalized MAE {h_mae:.3f}  off-by-one {h_obo:.3f}")
    load = os.getloadavg()
    unk, um = run(list(csv.DictReader(open(HERE / "rep_labels_unknown.csv"))), data, cache)
    unknown_section = [
        "", "## Exercises the exercise model does not know: class-agnostic count", "",
        f"{len(unk)} clips (`bench/rep_labels_unknown.csv`, held out, counted from 5 fps contact sheets) of exercises",
        "outside the model's ten (shoulder press, hammer curl, tricep dips; the four russian-twist clips were too",
        "small and short to count by eye). The agnostic column is what a user gets when the model does not know",
        f"the exercise: normalized MAE **{um['agn_mae']:.3f}**, off-by-one **{um['agn_obo']:.3f}**; with the",
        f"exercise's own profile: {um['mae']:.3f} / {um['obo']:.3f}.", "", *clip_rows(unk)]  # fmt: skip
    print(
        f"unknown exercises, agnostic: normalized MAE {um['agn_mae']:.3f}  off-by-one {um['agn_obo']:.3f}"
    )
    lines = [
        "# Repetition counting on real clips",
        "",
        f"Tuning: {len(out)} clips (`bench/rep_labels.csv`, `bench/rep_labels_tune2.csv`, `bench/rep_labels_tune3.csv`, `bench/rep_labels_tune4.csv`, `bench/rep_labels_tune5.csv` and the `tune` rows of "
        f"`bench/rep_labels_newsource.csv` and `bench/rep_labels_perexercise.csv`); held out: {len(held_all)} clips in six sets below, never used for tuning. "
        "True counts were taken by looking",
        "at contact sheets of the video frames (4 fps; 8 fps for jumping jacks and the new sources). Convention: a rep counts when its",
        "turning point (bottom of a squat/push-up/lunge/dip, top of a pull-up or curl, open position of a jack)",
        "is visible and the body moves back toward the rest pose afterwards; a turning point cut off by the end",
        "of the clip is not counted, except a deadlift's lockout. Clips that could not be counted with confidence",
        "from the frames were left out. Each leg's lunge is a rep.",
        f"Poses: the MediaPipe cache at the default settings (pose version {cache.settings.VERSION}, {cache.settings.fps:g} fps, "
        f"recovery {'on' if cache.settings.recover else 'off'}, main person {'on' if cache.settings.main_person else 'off'}). "
        "Method: `workout_classifier.analysis.reps.count_reps(seq, exercise)`",
        "(joint angles and distances in the metric hip-centred world landmarks, left/right averaged; the exercise's",
        "profile of measures, first principal component, smoothed, prominent peaks at the turning point); the",
        "agnostic column gives no exercise. Online: `OnlineRepCounter` fed frame by frame, then `finish()`.",
        f"Machine load while measuring (1/5/15 min): {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on 2 shared cores.",
        "",
        "## Held out, all six sets together (the targets)",
        "",
        "| metric | value | target |",
        "| --- | ---: | ---: |",
        f"| clips | {len(held_all)} | |",
        f"| normalized MAE | {h_mae:.3f} | <= 0.15 |",
        f"| off-by-one accuracy | {h_obo:.3f} | >= 0.90 |",
        f"| exact count | {float(np.mean(h_err == 0)):.3f} | |",
        "",
        lunge_line(held_all),
        "",
        "Held-out clips off by more than one rep: "
        + (
            ", ".join(
                f"{o['clip']} (true {o['true']}, counted {o['pred']})"
                for o in held_all
                if abs(o["pred"] - o["true"]) > 1
            )
            or "none"
        )
        + ".",
        "",
        "Per exercise (issue 27's targets on our own held-out clips: normalized MAE <= 0.12, off-by-one >= 0.92;",
        "plank is a hold, timed: see its section):",
        "",
        *exercise_rows(held_all, h_err, h_true, targets=True),
        "",
        *earlier_held_rows(held_all),
        "",
        *PER_EXERCISE_NOTES,
        "",
        *newsource_section(new_held, [o for o in out if o["clip"] in NEWSOURCE_TUNE]),
        "",
        "Online against offline on every labelled clip (tuning and held out): "
        + " ".join(online_exceptions(out + held_all)),
        "",
        "## Plank: time held",
        "",
        *hold_rows(data, cache),
        *unknown_section,
        *held_sections,
        "",
        "## Clips looked at and left out (issue 15 and 27 labelling)",
        "",
        *[f"- {c}" for c in LEFT_OUT],
        "",
        "## Tuning clips",
        "",
        *metric_rows(m),
        "",
        "For comparison, PoseRAC reports normalized MAE 0.21 and off-by-one 0.60 on RepCount (a harder set with",
        "longer clips and more reps per clip; not the same clips).",
        "",
        *exercise_rows(out, err, true),
        "",
        *clip_rows(out),
    ]
    write_table(lines, Path(args.out))
    print(
        f"tuning: normalized MAE {m['mae']:.3f}  off-by-one {m['obo']:.3f}  exact {m['exact']:.3f}"
    )
    for o in out:
        flag = "" if o["pred"] == o["true"] else "  <--"
        print(f"{o['clip']:50s} true {o['true']} pred {o['pred']} x3 {o['pred3']}{flag}")


if __name__ == "__main__":
    main()
