"""Do two versions of the code give the shipped model the same answers on ../shared/data?

Runs `workout predict --json --reps --form --timeline` with the shipped model on every clip
of ../shared/data/clips (poses from CACHE, so only the code after pose extraction is compared),
saves the answers, and with --against compares them to answers saved by another commit:
labels equal, every number within 1e-6. Used across the restructuring commits (issue 24).

    python bench/same_answers.py --cache CACHE --save before.json
    python bench/same_answers.py --cache CACHE --against before.json
    make bench-same_answers CACHE=CACHE ANSWERS=before.json   # saves ANSWERS first where it is missing
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from common import commit, write_table

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "clips"
OUT = HERE / "results" / "same_answers.md"
TOL = 1e-6


def answers(cache: str) -> list[dict]:
    from workout_classifier.learn.dataset import scan_dataset

    clips, _ = scan_dataset(DATA)
    cmd = [sys.executable, "-m", "workout_classifier.cli", "predict", *[str(c.path) for c in clips],
           "--cache", cache, "--json", "--reps", "--form", "--timeline"]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True)
    if not run.stdout.strip():
        sys.exit(f"predict failed: {run.stderr.strip()[-500:]}")
    return json.loads(run.stdout)


def differences(a, b, where: str = "") -> list[str]:
    """Where two answers differ: strings and structure exactly, numbers within TOL."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{where}[{i}]")
        ]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return [] if abs(a - b) <= TOL else [f"{where}: {a} vs {b}"]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True, help="pose cache of ../shared/data (workout extract)")
    ap.add_argument("--save", type=Path, help="write the answers to this JSON file")
    ap.add_argument("--against", type=Path, help="compare with answers saved earlier")
    ap.add_argument("--new-key", action="append", default=[], metavar="KEY",
                    help="a key the newer code adds by design: left out of the comparison (repeatable)")  # fmt: skip
    args = ap.parse_args()
    now = answers(args.cache)
    if args.save:
        args.save.write_text(json.dumps({"commit": commit(), "answers": now}))
        print(f"{len(now)} answers of {commit()} saved to {args.save}")
    if args.against:
        if not args.against.is_file():
            sys.exit(
                f"{args.against} not found: save the answers of the code to compare against with --save"
            )
        saved = json.loads(args.against.read_text())
        new = [{k: v for k, v in a.items() if k not in args.new_key} for a in now]
        diffs = differences(saved["answers"], new, "answers")
        labels = sum(
            x.get("label") == y.get("label") for x, y in zip(saved["answers"], now, strict=False)
        )
        lines = [
            f"# Same answers: {saved['commit']} vs {commit()} ({dt.date.today()})",
            "",
            f"Shipped model, `predict --reps --form --timeline` on {len(now)} clips of ../shared/data/clips, "
            f"poses from one cache; numbers compared within {TOL:g}"
            + (
                f"; keys new by design left out: {', '.join(args.new_key)}."
                if args.new_key
                else "."
            ),
            "",
            "| clips | same label | fields that differ |",
            "|---|---|---|",
            f"| {len(now)} | {labels} | {len(diffs)} |",
            *([""] + [f"- {d}" for d in diffs[:20]] if diffs else []),
        ]
        write_table(lines, OUT)
        sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
