"""The whole of ../shared/data extracted into an EMPTY cache: wall time with the setting used.

`python bench/extract.py --full [--fps 15] [--workers 2] [--cache DIR]` runs
`workout extract DATA --cache DIR --workers W --fps F --json` in a fresh process
(what a user runs), times it and adds one row to bench/results/extract_full.md
(rows of earlier runs are kept: one row per setting and date). DIR must be empty
or absent; without --cache a temporary folder is used and removed afterwards.
Target (issue 13): 642 clips in under 6 minutes with 2 workers.

The row also gives the CPU time of the run (all its processes), the load average
before and after (the machine is shared: run it under `flock /work/cpu.lock`),
and how long the last worker ran alone at the end: clips go out longest first,
and this replays that order on the clips' own frame counts (time taken as
proportional to frames), which says whether one long clip was left for one worker.
"""

from __future__ import annotations

import heapq
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import commit, write_table

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
HEADER = [
    "# The whole clip set into an empty cache",
    "",
    "`python bench/extract.py --full` (`workout extract ../shared/data/clips --cache EMPTY --workers W --fps F "
    "--json` in a fresh process). CPU s: all its processes, user + system. Load: 1-minute load average before "
    "and after (a shared machine). Alone at the end: the last worker's lone time when the clips' frame counts are "
    "replayed longest first on W workers, as a share of the run. Target: 642 clips under 360 s with 2 workers.",
    "",
    "| date | code | --fps | workers | clips | frames | wall s | CPU s | cores busy | frames/s | alone at the end "
    "| load before / after |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
]


def load1() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def lone_tail(frames: list[int], workers: int) -> float:
    """Share of the makespan during which only one worker is busy, clips longest first."""
    if workers < 2 or not frames:
        return 0.0
    ends = [0.0] * workers
    for n in sorted(frames, reverse=True):
        heapq.heapreplace(ends, ends[0] + n)  # the next clip goes to the first free worker
    ends.sort()
    return (ends[-1] - ends[-2]) / ends[-1] if ends[-1] else 0.0


def run_full(data: Path, fps: float, workers: int, cache: Path | None, out: Path) -> int:
    if not data.is_dir():
        print(f"skipped: {data} not found (the shared clips sit beside the checkout)")
        return 1
    tmp = None
    if cache is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-full-")
        cache = Path(tmp.name)
    if cache.exists() and any(cache.iterdir()):
        print(f"{cache} is not empty: the benchmark needs an empty cache")
        return 1
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "workout_classifier.cli", "extract", str(data), "--cache", str(cache),
           "--workers", str(workers), "--fps", str(fps), "--json"]  # fmt: skip
    before, t0 = load1(), time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = load1()
    try:
        summary = json.loads(r.stdout)
    except ValueError:
        print(f"workout extract failed (exit {r.returncode}):\n{r.stderr[-2000:]}")
        return 1
    frames = []
    import numpy as np

    for f in cache.glob("*.npz"):
        with np.load(f) as z:
            frames.append(len(z["times"]))
    cpu = kids.ru_utime + kids.ru_stime
    row = (f"| {time.strftime('%Y-%m-%d %H:%M')} | {commit()} | {fps:g} | {workers} | {summary['total']} | "
           f"{summary['frames']} | {wall:.1f} | {cpu:.0f} | {cpu / wall:.2f} | {summary['frames'] / wall:.1f} | "
           f"{lone_tail(frames, workers):.3f} | {before} / {after} |")  # fmt: skip
    print(row)
    print(f"failed {len(summary['failed'])}, no person {len(summary['no_person'])}; target 360 s: "
          f"{'met' if wall < 360 else 'MISSED'}")  # fmt: skip
    earlier = (
        [x for x in out.read_text().splitlines() if x.startswith("| 20")] if out.is_file() else []
    )
    write_table([*HEADER, *earlier, row], out)  # one row per run, earlier rows kept
    if tmp is not None:
        tmp.cleanup()
    return 0
