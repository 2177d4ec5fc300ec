"""Both evaluation protocols, side by side, for the models asked for (default: the shipped kind, trees).

Runs `workout evaluate` on ../shared/data once per model and protocol (grouped 5-fold and
leave-source-out), keeps each run's report under bench/results/protocols/<model>-<protocol>/
and writes one table: accuracy +- std over folds, pooled accuracy, macro-F1, per-class F1,
the pairs most confused, ms per clip and training time. Exercises with fewer than 7 clips are
listed as not measured (`--min-clips`, the CLI default).

    python bench/protocols.py [--cache /work/cache] [--models trees cnn-lstm ...] [--reuse]

`--reuse` reads the reports of models run before (one model per call on a slow machine,
then one call with --reuse for the whole table); run them on the same code and cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "clips"
OUT = HERE / "results"


def run(model: str, protocol: str, cache: str, reuse: bool = False) -> dict:
    out = OUT / "protocols" / f"{model}-{protocol}"
    if reuse and (out / "metrics.json").is_file():  # a model run earlier on the same code: read, not rerun
        return json.loads((out / "metrics.json").read_text())
    cmd = [sys.executable, "-m", "workout_classifier.cli", "evaluate", str(DATA), "--cache", cache,
           "--model", model, "--protocol", protocol, "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "metrics.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="cache")
    ap.add_argument("--models", nargs="*", default=["trees"])
    ap.add_argument("--reuse", action="store_true",
                    help="read a model's earlier reports under bench/results/protocols/ instead of rerunning it")
    args = ap.parse_args()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, per_class, pairs, rare = [], [], [], {}
    for model in args.models:
        res = {p: run(model, p, args.cache, args.reuse) for p in ("grouped", "source")}
        g, s = res["grouped"], res["source"]
        rows.append(f"| `{model}` | {g['accuracy_mean']:.3f} +- {g['accuracy_std']:.3f} | {g['pooled_macro_f1']:.3f} "
                    f"| {s['pooled_accuracy']:.3f} | {s['accuracy_mean']:.3f} +- {s['accuracy_std']:.3f} "
                    f"| {s['pooled_macro_f1']:.3f} | {(g['pooled_macro_f1'] + s['pooled_macro_f1']) / 2:.3f} "
                    f"| {g['infer_ms_per_clip']:.1f} | {g['train_seconds']:.0f} s |")  # fmt: skip
        for p, m in res.items():
            rare.setdefault(p, set()).update(m.get("rare_classes", []))
            f1 = {c: v["f1"] for c, v in m["per_class"].items()}
            per_class.append((model, p, f1))
            pairs.append(f"- `{model}`, {p}: " + ", ".join(
                f"{a['pair'][0]} / {a['pair'][1]} {a['count']}" for a in m["confusable_pairs"][:4]))
    classes = sorted(per_class[0][2])
    lines = [
        "# Both protocols, nine exercises",
        "",
        f"`python bench/protocols.py`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average "
        f"{load} at the end (2 cores). Data: ../shared/data, exercises with 7 or more clips; the "
        "others (tricep dips, jumping jack, russian twist, barbell biceps curl, hammer curl, shoulder "
        "press) are not measured. Grouped: StratifiedGroupKFold(5), seed 0, groups from UCF101 names "
        "and clips/groups.csv. Source: train without one source of an exercise, test on it (every "
        "exercise with two or more sources). Reports: bench/results/protocols/<model>-<protocol>/.",
        "",
        "| model | grouped accuracy | grouped macro-F1 (pooled) | source accuracy (pooled) | source accuracy, "
        "mean over folds | source macro-F1 (pooled) | mean macro-F1 | ms per clip | training, 5 folds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Targets (issue 11): grouped accuracy >= 0.96, macro-F1 >= 0.94, every exercise F1 >= 0.85; "
        "source accuracy >= 0.92.",
        "",
        "## F1 per exercise (out of fold)",
        "",
        "| model, protocol | " + " | ".join(classes) + " |",
        "| --- | " + " | ".join("---" for _ in classes) + " |",
        *(f"| `{m}`, {p} | " + " | ".join(f"{f1.get(c, 0):.2f}" for c in classes) + " |" for m, p, f1 in per_class),
        "",
        "Flagged (too few clips, groups or sources to be tested in every fold; trained on, not a measurement): "
        + "; ".join(f"{p}: {', '.join(sorted(r)) or 'none'}" for p, r in rare.items()) + ".",
        "",
        "## Pairs most confused (clips, both directions)",
        "",
        *pairs,
    ]
    (OUT / "protocols.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
