"""What the benchmark scripts share: the results writer (with who/when/how), the five exercises with many
clips and their cached poses, the clips of new sources and a training set without them, the machine's load, and a local `workout serve` to time (a free port, waiting
for it to answer, multipart uploads)."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

FIVE = ["bench press", "lunges", "pull up", "push up", "squat"]
ROOT = Path(__file__).resolve().parents[1]


def cached_five(clips_dir: Path, cache_dir: Path):
    """(clips, TrainingSet) of the five exercises' clips whose poses are in the cache (see `workout extract`)."""
    from workout_classifier.learn.dataset import scan_dataset
    from workout_classifier.learn.train import load_training_set
    from workout_classifier.pose.cache import PoseCache

    clips, _ = scan_dataset(clips_dir)
    cache = PoseCache(cache_dir)
    clips = [c for c in clips if c.label in FIVE and cache.status(c.path) == "done"]
    return clips, load_training_set(clips, cache, classes=FIVE)


def without_new_sources(ts):
    """(new (N,) bool, training set): the clips of new sources (`<owner>__<file>`, source "owner:...") of a
    TrainingSet, and the TrainingSet of the other clips less the new clips' scene groups, to train a
    model that has seen nothing of them."""
    import numpy as np

    from workout_classifier.learn.train import TrainingSet

    new = np.array([s.startswith("owner:") for s in ts.sources])
    keep = np.flatnonzero(~new & ~np.isin(ts.groups, ts.groups[new]))
    train = TrainingSet([ts.tracks[i] for i in keep], ts.y[keep], ts.groups[keep], ts.classes,
                        [ts.names[i] for i in keep], [], ts.sources[keep])  # fmt: skip
    return new, train


def commit() -> str:
    """The short commit of the checkout, "+ changes" when the tree differs from it (results files aside:
    a benchmark writing its own results must not mark the next one's code as changed)."""

    def git(*args: str) -> str:
        r = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
        return r.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", ".", ":(exclude)bench/results")
    return head + (" + changes" if dirty else "")


def run_header() -> str:
    """One line saying which code made a results file, when, and with which command and settings."""
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = shlex.join(
        ["python", *(Path(a).relative_to(ROOT).as_posix() if _inside(a) else a for a in sys.argv)]
    )
    return f"_Commit {commit()}, {when}, `{cmd}`._"


def _inside(arg: str) -> bool:
    p = Path(arg)
    return p.is_absolute() and p.is_relative_to(ROOT) and p.exists()


def write_table(lines: list[str], out: Path) -> str:
    """Print a results table and write it to `out` (bench/results/...); returns the text.

    The run header (run_header: commit, date, command line) goes under the title when the first line is a
    `# ` heading, else on top."""
    head = run_header()
    if lines and lines[0].startswith("# "):
        lines = [lines[0], "", head, *lines[1:]]
    else:
        lines = [head, "", *lines]
    text = "\n".join(lines).rstrip("\n") + "\n"
    print(text, end="")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text


def uptime() -> str:
    """The load average over 1, 5 and 15 minutes (the machine is shared: say how busy it was)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def priority_note() -> str:
    """Say so when this run was given a raised CPU priority (shared machine)."""
    try:
        group = Path("/proc/self/autogroup").read_text().split()
        group_nice = int(group[group.index("nice") + 1])
    except (OSError, ValueError, IndexError):
        group_nice = 0
    own = os.nice(0)
    if group_nice < 0 or own < 0:
        return (
            f" Other jobs shared this machine, so the benchmark ran with raised CPU priority "
            f"(nice {own}, autogroup nice {group_nice})."
        )
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(
    proc: subprocess.Popen, port: int, seconds: float, what: str
) -> subprocess.Popen:
    """`proc` once 127.0.0.1:port answers /api/health; killed, and the run stopped, if not in `seconds`."""
    for _ in range(int(seconds * 10)):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{what} did not start")


def multipart(
    path: Path | None, data: bytes | None = None, name: str | None = None
) -> tuple[bytes, str]:
    """(body, content type) of a multipart upload of a file, or of `data` named `name`."""
    boundary = "benchboundary7f3a"
    name = name or path.name
    data = path.read_bytes() if data is None else data
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: video/mp4\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
    return body, f"multipart/form-data; boundary={boundary}"
