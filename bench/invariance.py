"""Does the answer hold when a clip is mirrored, cropped, shrunk, slowed or sped up? (issue 25)

The clips of new sources (`<owner>__<file>` in ../shared/data: phone, home and gym clips nothing else
comes from) are asked, each in six versions written by tests/variants.py (as is, mirrored, the middle
0.8 of the picture, half size, played at 0.8x and 1.25x), of a `trees` model trained as `workout train`
trains it (with its `unknown` gate and body limits) on every other clip of the ten exercises, their
scene groups left out too (as bench/levers.py). Each version goes through `Model.predict`, the pose
model included. Writes bench/results/invariance.md: per version, how many are right (best guess, and
with `unknown` counted wrong) and how many answers equal the clip's own.

    python bench/invariance.py --cache CACHE [--seconds 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from common import ROOT, uptime, without_new_sources, write_table

sys.path.insert(0, str(ROOT / "tests"))
from variants import VARIANTS, rewrite  # noqa: E402

from workout_classifier.api import MIN_CLIPS, fit_training_set  # noqa: E402
from workout_classifier.learn.dataset import scan_dataset  # noqa: E402
from workout_classifier.learn.train import load_training_set  # noqa: E402
from workout_classifier.pose.cache import PoseCache  # noqa: E402
from workout_classifier.pose.landmarks import PoseSettings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clips"
OUT = ROOT / "bench" / "results" / "invariance.md"


def _best(r) -> str | None:
    """A Result's most probable exercise, whatever the gate answered."""
    return r.top[0]["label"] if r.top else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="cache", help="pose cache of ../shared/data (for training)")
    ap.add_argument("--seconds", type=float, default=20.0, help="first seconds of each clip kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    clips, _ = scan_dataset(DATA)
    counts = Counter(c.label for c in clips)
    clips = [c for c in clips if counts[c.label] >= MIN_CLIPS]
    cache = PoseCache(args.cache, PoseSettings())
    ts = load_training_set(clips, cache)
    new, train = without_new_sources(ts)
    t0 = time.time()
    model = fit_training_set(
        train, cache.settings, "trees", seed=args.seed, options={"seed": args.seed}
    )
    by_name = {c.name: c for c in clips}
    asked = [(ts.names[i], ts.classes[ts.y[i]]) for i in np.flatnonzero(new)]
    with tempfile.TemporaryDirectory() as tmp:
        paths, keys = [], []
        for n, (name, _) in enumerate(asked):
            for v in VARIANTS:
                paths.append(rewrite(by_name[name].path, Path(tmp) / f"{n}-{len(keys)}.mp4", v,
                                     seconds=args.seconds))  # fmt: skip
                keys.append((name, v))
        results = model.predict(paths, cache=Path(tmp) / "cache", workers=args.workers)
    ans = {k: r for k, r in zip(keys, results, strict=True)}
    truth = dict(asked)
    lines = [
        "# Changed copies of new-source clips: does the answer hold?",
        "",
        f"The {len(asked)} `<owner>__` clips of ../shared/data (first {args.seconds:g} s of each), asked by a "
        f"`trees` model trained with its gate on the other {len(train.y)} clips of the ten exercises (their scene "
        f"groups left out too; seed {args.seed}), through `Model.predict` (pose included). Machine load "
        f"{uptime()}; {time.time() - t0:.0f} s in all.",
        "",
        "| version | right (best guess) | right (`unknown` wrong) | same best guess as as is | same answer as as is | no answer |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    changed = []
    for v in VARIANTS:
        rs = [(name, ans[(name, v)], ans[(name, "as is")]) for name, _ in asked]
        ok = [r for r in rs if r[1].error is None and r[2].error is None]
        right = sum(_best(a) == truth[n] for n, a, _ in ok)
        gated = sum(a.label == truth[n] for n, a, _ in ok)
        same_best = sum(_best(a) == _best(b) for _, a, b in ok)
        same = sum(a.label == b.label for _, a, b in ok)
        n = len(rs)
        lines.append(f"| {v} | {right}/{n} | {gated}/{n} | {same_best}/{len(ok)} | {same}/{len(ok)} | "
                     f"{n - len(ok)} |")  # fmt: skip
        changed += [f"{name} ({v}): {b.label} -> {a.label}" + (f" [{a.error}]" if a.error else "")
                    for name, a, b in rs if a.label != b.label or a.error]  # fmt: skip
    lines += [
        "",
        "Answers that differ from the clip's own (as is -> changed; the truth is the folder):",
        "",
    ]
    lines += [f"- {c}" for c in changed] or ["- none"]
    write_table(lines, OUT)


if __name__ == "__main__":
    main()
