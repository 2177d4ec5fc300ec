"""Damaged copies of real clips: does `workout predict` say what it could not read? (issue 28)

Makes damaged copies of a few real clips of ../shared/data in a temp folder (never in the
project), the way issue 28 tried them: cut short, bits flipped, a block zeroed, the header
overwritten, random bytes, thirds swapped. Runs `workout predict --json --reps --timeline` on
them (one process per kind of damage, a fresh pose cache, under a timeout) and counts, per kind:
answers that were errors, that carried warnings, that named an exercise, and confident wrong
labels (confidence >= 0.5 for another exercise than the clip's) without a warning (target: none).
Then the clean check: every clip of ../shared/data/clips through `workout predict --cache CACHE`
(poses from the cache; the decoder's report is made by decoding each clip again, as for any cache
file made before extraction kept it) must carry no warning.

    python bench/damaged.py --cache /work/cache [--clips 6] [--no-clean]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import commit, write_table

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "clips"
OUT = HERE / "results" / "damaged.md"
EXERCISES = ["squat", "push up", "pull up", "bench press", "lunges", "deadlift"]
TIMEOUT_S = 600


def _flip(data: bytes, rng: random.Random, bits: int) -> bytes:
    b = bytearray(data)
    for _ in range(bits):  # past the first 10%: the header (moov) is its own kind below
        i = rng.randrange(len(b) // 10, len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def _zero(data: bytes, rng: random.Random, share: float) -> bytes:
    n = int(len(data) * share)
    at = rng.randrange(len(data) // 10, len(data) - n)
    return data[:at] + bytes(n) + data[at + n :]


def _header(data: bytes, rng: random.Random) -> bytes:
    return rng.randbytes(4096) + data[4096:]


def _thirds(data: bytes, rng: random.Random) -> bytes:
    k = len(data) // 3
    parts = [data[:k], data[k : 2 * k], data[2 * k :]]
    order = [[1, 0, 2], [0, 2, 1], [2, 1, 0]][rng.randrange(3)]
    return b"".join(parts[i] for i in order)


# kind -> [(variant name, damage(data, rng))]
KINDS: dict[str, list[tuple[str, Callable[[bytes, random.Random], bytes]]]] = {
    "cut short": [(f"{p:.0%}", lambda d, r, p=p: d[: int(len(d) * p)]) for p in (0.3, 0.6, 0.9)],
    "bits flipped": [(f"{n} bits", lambda d, r, n=n: _flip(d, r, n)) for n in (20, 200)],
    "block zeroed": [(f"{s:.0%}", lambda d, r, s=s: _zero(d, r, s)) for s in (0.05, 0.25)],
    "header overwritten": [("4 KB", _header)],
    "random bytes": [("whole file", lambda d, r: r.randbytes(len(d)))],
    "thirds swapped": [("two thirds", _thirds)],
}


def pick_clips(n: int) -> list[Path]:
    """The first clip (by name) of 4-9 s of each exercise, n in all, in EXERCISES order."""
    from workout_classifier.frames.video import probe

    out = []
    for ex in EXERCISES:
        for p in sorted((DATA / ex).glob("*.mp4")):
            if 4.0 <= probe(p).duration <= 9.0:
                out.append(p)
                break
        if len(out) == n:
            break
    return out


def predict(paths: list[Path], cache: str | None = None) -> tuple[list[dict], str, float]:
    """(answers, trouble, seconds): trouble is 'timeout', 'traceback' or ''."""
    cmd = [sys.executable, "-m", "workout_classifier.cli", "predict", *map(str, paths), "--json",
           "--reps", "--timeline"] + (["--cache", cache] if cache else [])  # fmt: skip
    t0 = time.perf_counter()
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return [], "timeout", time.perf_counter() - t0
    trouble = "traceback" if "Traceback" in run.stderr else ""
    try:
        answers = json.loads(run.stdout)
    except ValueError:
        answers, trouble = [], trouble or f"no JSON: {run.stderr.strip()[-200:]}"
    return answers, trouble, time.perf_counter() - t0


def damaged_rows(clips: list[Path], seeds: int) -> tuple[list[str], list[dict]]:
    rows, copies = [], []
    with tempfile.TemporaryDirectory(prefix="damaged-") as tmp:
        for kind, variants in KINDS.items():
            made = []  # (copy, exercise, variant)
            for ci, clip in enumerate(clips):
                data = clip.read_bytes()
                for vi, (name, damage) in enumerate(variants):
                    for s in range(seeds if kind not in ("cut short",) else 1):
                        rng = random.Random(1000 * ci + 10 * vi + s)
                        out = Path(tmp) / f"{kind.replace(' ', '_')}-{ci}-{vi}-{s}.mp4"
                        out.write_bytes(damage(data, rng))
                        made.append((out, clip.parent.name, name))
            with tempfile.TemporaryDirectory(prefix="cache-") as cache:
                answers, trouble, secs = predict([m[0] for m in made], cache)
            c = dict(copies=len(made), errors=0, warned=0, named=0, unknown=0, right=0,
                     wrong_conf_warned=0, wrong_conf_silent=0, silent=0)  # fmt: skip
            for (path, truth, variant), a in zip(made, answers, strict=False):
                warned = bool(a.get("warnings"))
                c["errors"] += bool(a["error"])
                c["warned"] += warned
                c["silent"] += not warned and not a["error"]
                label, conf = a.get("label"), a.get("confidence") or 0.0
                named = label not in (None, "unknown")
                c["named"] += named
                c["unknown"] += label == "unknown"
                c["right"] += label == truth
                if named and label != truth and conf >= 0.5:
                    c["wrong_conf_warned" if warned else "wrong_conf_silent"] += 1
                guess = a["top"][0]["label"] if a.get("top") else None
                copies.append({"kind": kind, "variant": variant, "truth": truth, "label": label,
                               "confidence": conf, "guess": guess, "share": _share(path), "damaged": a.get("damaged"),
                               "error": a["error"], "warnings": a.get("warnings")})  # fmt: skip
            rows.append(
                f"| {kind} | {', '.join(v for v, _ in variants)} | {c['copies']} | {c['errors']} | "
                f"{c['warned']} | {c['silent']} | {c['unknown']} | {c['named']} | {c['right']} | "
                f"{c['wrong_conf_warned']} | **{c['wrong_conf_silent']}** | "
                f"{trouble or 'none'}{'' if len(answers) == len(made) else ' (answers missing)'} | {secs:.0f} |"
            )
    return rows, copies


def _share(path: Path) -> float | None:
    """Damaged or lost frames of a copy (damage.damaged_share), from a decode of its own."""
    from workout_classifier.frames.damage import damaged_share
    from workout_classifier.frames.sampling import decode_report
    from workout_classifier.frames.video import VideoError

    try:
        return round(damaged_share(decode_report(path)), 3)
    except VideoError:
        return None


def cost_rows(clips: list[Path], repeats: int = 5) -> list[str]:
    """Per clip: a plain decode (what video.py did before), the decode that counts damage, and
    pose extraction, in seconds (the least of `repeats`, the other engineers' jobs being noise to
    a decode of 0.1 s; extraction once)."""
    import av

    from workout_classifier.frames.sampling import decode_report
    from workout_classifier.pose.landmarks import PoseSettings
    from workout_classifier.pose.runner import extract_pose

    def plain(p):
        with av.open(str(p)) as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            for _ in c.decode(s):
                pass

    def timed(fn, p) -> float:
        t0 = time.perf_counter()
        fn(p)
        return time.perf_counter() - t0

    rows, sums = [], [0.0, 0.0, 0.0]
    for p in clips:
        before = min(timed(plain, p) for _ in range(repeats))
        now = min(timed(decode_report, p) for _ in range(repeats))
        pose = timed(lambda q: extract_pose(q, PoseSettings()), p)
        sums = [a + b for a, b in zip(sums, (before, now, pose), strict=True)]
        rows.append(f"| {p.parent.name}/{p.name} | {before:.3f} | {now:.3f} | {now - before:+.3f} | "
                    f"{pose:.2f} | {(now - before) / pose:+.1%} |")  # fmt: skip
    b, n, q = sums
    rows.append(f"| all | {b:.3f} | {n:.3f} | {n - b:+.3f} | {q:.2f} | {(n - b) / q:+.1%} |")
    return rows


def clean_check(cache: str) -> tuple[list[str], float]:
    from workout_classifier.learn.dataset import scan_dataset

    clips, _ = scan_dataset(DATA)
    answers, trouble, secs = predict([c.path for c in clips], cache)
    warned = [a for a in answers if a.get("warnings")]
    lines = [f"Clean clips: {len(answers)} of {len(clips)} answered, {sum(bool(a['error']) for a in answers)} "
             f"errors, **{len(warned)} with a warning**; trouble: {trouble or 'none'}; {secs:.0f} s."]  # fmt: skip
    lines += [f"- {Path(a['video']).name}: {'; '.join(a['warnings'])}" for a in warned]
    return lines, secs


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--cache", default="/work/cache", help="pose cache of ../shared/data (clean check)"
    )
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--seeds", type=int, default=2, help="copies per variant (cut short: 1)")
    ap.add_argument("--no-clean", action="store_true", help="skip the check of every clean clip")
    args = ap.parse_args()
    from workout_classifier.frames.damage import MAX_DAMAGED_SHARE

    clips = pick_clips(args.clips)
    rows, copies = damaged_rows(clips, args.seeds)
    lines = [
        "# Damaged clips (issue 28)",
        "",
        f"`python bench/damaged.py` on {dt.datetime.now():%Y-%m-%d %H:%M}, code {commit()}: damaged copies of "
        f"{len(clips)} real clips ({', '.join(c.parent.name + '/' + c.name for c in clips)}), "
        "`workout predict --json --reps --timeline`, a fresh cache per kind, the shipped model. "
        f"An answer is `unknown` above {MAX_DAMAGED_SHARE:.0%} damaged or lost frames (frames/damage.py).",
        "",
        "Columns: copies; errors (a one-line error, no answer); warned (the answer carries warnings); "
        "silent (an answer without a warning); unknown; named (an exercise); right (the clip's exercise); "
        "wrong >= 0.5 (another exercise at confidence >= 0.5) with a warning, and **without one (target 0)**; "
        "trouble (traceback or timeout); seconds.",
        "",
        "| damage | variants | copies | errors | warned | silent | unknown | named | right | wrong >= 0.5, warned "
        "| **wrong >= 0.5, silent** | trouble | s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        *rows,
        "",
    ]
    silent = [c for c in copies if not c["error"] and not c["warnings"]]
    if silent:
        lines += [
            "Answers without a warning (the damage missed what the decoder reads, or it was not seen):",
            "",
        ]
        lines += [
            f"- {c['kind']} ({c['variant']}), {c['truth']}: {c['label']} ({c['confidence']:.2f})"
            for c in silent
        ]
        lines.append("")
    lines += [
        f"Cost, on the clips above (one process, a shared 2-core machine, load average {_load()}; "
        "decodes: the least of 5 runs): a plain decode of every frame "
        "(`container.decode`, as video.py did before), the decode that counts damage (`decode_report`: "
        "packet by packet, FFmpeg's error log captured; no pictures made), and pose extraction "
        "(`extract_pose`, 10 fps). Extraction decodes with the counting decode, so what counting costs "
        "it is the difference; `predict` on a cache file made before pays the whole counting decode.",
        "",
        "| clip | plain decode s | counting decode s | difference s | pose extraction s | difference / pose |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *cost_rows(clips),
        "",
    ]
    if not args.no_clean:
        clean, _ = clean_check(args.cache)
        lines += clean
    write_table(lines, OUT)
    (OUT.with_suffix(".json")).write_text(json.dumps(copies, indent=1))


def _load() -> str:
    import os

    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
