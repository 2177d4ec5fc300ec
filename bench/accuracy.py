"""Accuracy benchmark: every registered model under both protocols, nine exercises (issue 11).

Runs `workout evaluate` on ../shared/data once per model and protocol (grouped 5-fold and
leave-source-out), keeps each run's report under bench/results/accuracy/<model>-<protocol>/
and writes bench/results/accuracy.md: a summary (both protocols side by side, the mean of
their macro-F1 that picks the default model), then one table per protocol (accuracy +- std
over folds, pooled accuracy, macro-F1, per-class F1, ms per clip, training time) and the
pairs most confused. Exercises with fewer than 7 clips are listed as not measured (the CLI's
`--min-clips` default).

    python bench/accuracy.py --cache CACHE [--models trees cnn-lstm ...] [--reuse]

`--reuse` reads the reports of models run before (one model per call on a slow machine,
then one call with --reuse for the whole table); run them on the same code and cache.
The five-exercise benchmark this replaced is gone; its figures are in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from common import write_table

from workout_classifier.cli.learn import MIN_CLIPS
from workout_classifier.learn.dataset import scan_dataset
from workout_classifier.learn.models import list_models

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "clips"
OUT = HERE / "results"
PROTOCOLS = {
    "grouped": "Grouped 5-fold (new people and scenes of sources seen in training)",
    "source": "Leave-source-out (a source of the exercise never seen in training)",
}


def run(model: str, protocol: str, cache: str, reuse: bool = False) -> dict | None:
    """The metrics of `workout evaluate`; with `reuse`, an earlier run's, or None where there is none."""
    out = OUT / "accuracy" / f"{model}-{protocol}"
    if reuse:  # a model run earlier on the same code: read, not rerun
        return (
            json.loads((out / "metrics.json").read_text())
            if (out / "metrics.json").is_file()
            else None
        )
    cmd = [sys.executable, "-m", "workout_classifier.cli", "evaluate", str(DATA), "--cache", cache,
           "--model", model, "--protocol", protocol, "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "metrics.json").read_text())


def _cell(m: dict | None, key: str, spread: str | None = None) -> str:
    if m is None:
        return "not measured"
    return f"{m[key]:.3f}" + (f" +- {m[spread]:.3f}" if spread else "")


def _pose(m: dict) -> str:
    """The pose settings a report was measured on, where they differ between rows (reports kept by --reuse).

    Reports written before 2026-12-04 record only the fps; the main-person choice was off then."""
    pose = m.get("pose", {})
    who = "main person" if pose.get("main_person") else "main person off"
    return f"{pose.get('fps', '?'):g} fps, version {pose.get('version', '5')}, {who}"


def _f1(pc: dict) -> str:
    """A class's F1, or "-" where the protocol tests none of its clips (one source only)."""
    return f"{pc['f1']:.2f}" if pc.get("support", 0) else "-"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="cache")
    ap.add_argument(
        "--models", nargs="*", default=["trees", *(m for m in list_models() if m != "trees")]
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="read a model's earlier reports under bench/results/accuracy/ instead of rerunning it",
    )
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"skipped: {DATA} not found (the shared clips sit beside the checkout)")
    counts = Counter(c.label for c in scan_dataset(DATA)[0])
    small = sorted(k for k, n in counts.items() if n < MIN_CLIPS)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, res_all, pairs, rare = [], {}, [], {}
    for model in args.models:
        res = {p: run(model, p, args.cache, args.reuse) for p in PROTOCOLS}
        res = res_all[model] = {p: m for p, m in res.items() if m is not None}
        if not res:
            continue
        g, s = res.get("grouped"), res.get("source")
        mean = (
            f"{(g['pooled_macro_f1'] + s['pooled_macro_f1']) / 2:.3f}"
            if g and s
            else "not measured"
        )
        rows.append(f"| `{model}` | {_cell(g, 'accuracy_mean', 'accuracy_std')} | {_cell(g, 'pooled_macro_f1')} "
                    f"| {_cell(s, 'pooled_accuracy')} | {_cell(s, 'pooled_macro_f1')} "
                    f"| {mean} | {_pose(g or s)} |")  # fmt: skip
        for p, m in res.items():
            rare.setdefault(p, set()).update(m.get("rare_classes", []))
            pairs.append(f"- `{model}`, {p}: " + ", ".join(
                f"{a['pair'][0]} / {a['pair'][1]} {a['count']}" for a in m["confusable_pairs"][:4]))  # fmt: skip
    measured = [m for r in res_all.values() for m in r.values()]
    if not measured:
        sys.exit("no reports to read: run without --reuse first")
    classes = sorted(measured[0]["per_class"])
    lines = [
        "# Accuracy: every model, both protocols",
        "",
        f"`python bench/accuracy.py`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average "
        f"{load} at the end (2 cores). Data: ../shared/data, exercises with {MIN_CLIPS} or more clips "
        f"(`--min-clips`); not measured (too few clips): {', '.join(small) or 'none'}. Grouped: StratifiedGroupKFold(5), seed 0, groups from UCF101 names "
        "and clips/groups.csv. Source: train without one source of an exercise, test on it (every "
        "exercise with two or more sources). Reports: bench/results/accuracy/<model>-<protocol>/.",
        "",
        "| model | grouped accuracy | grouped macro-F1 (pooled) | source accuracy (pooled) "
        "| source macro-F1 (pooled) | mean macro-F1 | pose settings |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Targets (issue 11): grouped accuracy >= 0.96, macro-F1 >= 0.94, every exercise F1 >= 0.85; "
        "source accuracy >= 0.92. The default model is the best by the mean of the two macro-F1.",
        "",
    ]
    for p, title in PROTOCOLS.items():
        lines += [f"## {title}", "",
                  "| model | accuracy (mean +- std over folds) | pooled accuracy | macro-F1 (pooled) | "
                  + " | ".join(f"F1 {c}" for c in classes) + " | ms per clip | training, all folds |",
                  "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in classes) + " | ---: | ---: |"]  # fmt: skip
        for model, res in res_all.items():
            if p not in res:
                lines.append(f"| `{model}` | not measured |" + " |" * (len(classes) + 4))
                continue
            m = res[p]
            lines.append(f"| `{model}` | {m['accuracy_mean']:.3f} +- {m['accuracy_std']:.3f} | {m['pooled_accuracy']:.3f} "
                         f"| {m['pooled_macro_f1']:.3f} | "
                         + " | ".join(_f1(m["per_class"].get(c, {})) for c in classes)
                         + f" | {m['infer_ms_per_clip']:.1f} | {m['train_seconds']:.0f} s |")  # fmt: skip
        lines += ["", "Flagged (too few clips, groups or sources to be tested in every fold; trained on, not a "
                      f"measurement): {', '.join(sorted(rare.get(p, ()))) or 'none'}. `-`: no clip of the exercise "
                      "is tested (one source only); its F1 counts in no macro-F1.", ""]  # fmt: skip
    lines += ["## Pairs most confused (clips, both directions)", "", *pairs, ""]
    write_table(lines, OUT / "accuracy.md")


if __name__ == "__main__":
    main()
