"""Where extraction's CPU time goes, stage by stage, against a bare `Pose.process` loop.

CPU time (`time.process_time`: every thread of this process), not wall time, so that the
figures hold on a machine shared with other jobs. On the 12 clips of bench/extract.py
(15 fps), in this one process:

- bare: a fresh Pose per clip (created off the clock) and `pose.process` over the pre-decoded
  frames, as bench/extract.py's ceiling; its first frame (the graph's start) apart;
- pipeline: `extract_clips` with 1 worker into a fresh temporary cache, decoding inline
  (`PREFETCH_FRAMES = 0`, so that decoding's CPU time is its own stage), its stages timed by
  wrappers put around the functions that do them (the code itself is not changed): opening and
  decoding (with the decode report), the main tracker (first frame and the rest), the
  main-person look, recovery, the zoom look, making Pose objects, the cache write, hashing,
  and the rest of the loop (landmarks to arrays, regions, bookkeeping);
- the same pipeline untimed, decoding in its helper thread as shipped, for its total CPU time;
- the start of one spawned extraction worker (CPU of the child: Python, imports, model).

Writes bench/results/extract_profile.md. Timing wrappers cost a little themselves (a few
microseconds per call), which falls in the stages they wrap.

    python bench/extract_profile.py [--data PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import collections
import functools
import resource
import sys
import tempfile
import time
from pathlib import Path

from common import uptime, write_table
from extract import DEFAULT_DATA, clip_paths, worker_startup

HERE = Path(__file__).resolve().parent

STAGES = [
    ("open", "opening the clip (container, first frame)"),
    ("decode", "decoding, sampling, scaling, decode report"),
    ("pose_first", "main tracker, first frame (graph start)"),
    ("pose", "main tracker, other frames"),
    ("create", "making Pose objects (graph set-up)"),
    ("look", "main-person look (static model, blanked frames)"),
    ("choose", "main-person choice (motion scores)"),
    ("recovery", "recovery (trackers, static look)"),
    ("zoom", "zoom look (tiles)"),
    ("rest", "rest of the loop and packing (arrays, regions, meta)"),
    ("save", "cache write (compressed .npz, atomic)"),
    ("hash", "hashing the clip (sha256), cache keys"),
    ("driver", "extract_clips around it (checks, summary)"),
]


class Clock:
    """CPU seconds per stage; a stage entered inside another is counted in the outer one only."""

    def __init__(self):
        self.cpu = collections.Counter()
        self.calls = collections.Counter()
        self.depth = 0

    def timed(self, stage: str, fn, outer: bool = False):
        """`fn` timed into `stage`; an `outer` stage lets the stages inside it count apart."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += not outer
            c0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[stage] += time.process_time() - c0
                self.calls[stage] += 1
                self.depth -= not outer

        return wrapper

    def timed_iter(self, stage: str, it):
        while True:
            c0 = time.process_time()
            try:
                item = next(it)
            except StopIteration:
                self.cpu[stage] += time.process_time() - c0
                return
            self.cpu[stage] += time.process_time() - c0
            yield item


class _TimedPose:
    """A Pose whose process() time counts as the main tracker's unless an outer stage is timing."""

    def __init__(self, pose, clock: Clock):
        self.pose, self.clock, self.started = pose, clock, False

    def process(self, frame):
        stage = "pose" if self.started else "pose_first"
        self.started = True
        return self.clock.timed(stage, self.pose.process)(frame)

    def close(self):
        self.pose.close()


def instrument(clock: Clock):
    """Wrap the pipeline's stages; returns a function that puts everything back."""
    import workout_classifier.pose.cache as cache_mod
    import workout_classifier.pose.extract as ext
    import workout_classifier.pose.landmarks as landmarks
    import workout_classifier.pose.runner as lm
    from workout_classifier.pose.person import MainPerson
    from workout_classifier.pose.recovery import Recovery
    from workout_classifier.pose.zoom import Zoom

    saved = []

    def patch(owner, name, new):
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, new)

    real_open, real_create = lm.open_frames, lm.create_pose

    def open_frames(*args, **kwargs):
        info, frames = clock.timed("open", real_open)(*args, **kwargs)
        return info, clock.timed_iter("decode", frames)

    def create_pose(settings, static=False):
        pose = clock.timed("create", real_create)(settings, static)
        return pose if static else _TimedPose(pose, clock)

    patch(lm, "open_frames", open_frames)
    patch(lm, "create_pose", create_pose)
    patch(lm, "find_people", clock.timed("look", lm.find_people))
    patch(MainPerson, "choose", clock.timed("choose", MainPerson.choose))
    patch(Recovery, "__init__", clock.timed("recovery", Recovery.__init__))
    patch(Recovery, "frame", clock.timed("recovery", Recovery.frame))
    patch(Zoom, "look", clock.timed("zoom", Zoom.look))
    patch(landmarks.PoseSequence, "save", clock.timed("save", landmarks.PoseSequence.save))
    patch(cache_mod, "file_sha256", clock.timed("hash", cache_mod.file_sha256))
    patch(ext, "extract_pose", clock.timed("extract", ext.extract_pose, outer=True))
    patch(lm, "PREFETCH_FRAMES", 0)

    def undo():
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)

    return undo


def bare(frames_per_clip, settings) -> tuple[float, float]:
    """(CPU s of first frames, CPU s of the other frames) of a bare loop, fresh Pose per clip."""
    from workout_classifier._quiet import silenced_stderr
    from workout_classifier.pose.runner import create_pose

    first = rest = 0.0
    for frames in frames_per_clip:
        pose = create_pose(settings)
        with silenced_stderr():
            c0 = time.process_time()
            pose.process(frames[0][1])
            c1 = time.process_time()
            for _, frame in frames[1:]:
                pose.process(frame)
            c2 = time.process_time()
        pose.close()
        first, rest = first + c1 - c0, rest + c2 - c1
    return first, rest


def pipeline(paths, settings, clock: Clock | None) -> tuple[float, int]:
    """(CPU s, frames) of extract_clips, 1 worker, into a fresh cache; stages into `clock` if given."""
    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.extract import extract_clips

    undo = instrument(clock) if clock is not None else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-profile-") as d:
            cache = PoseCache(d, settings)
            c0 = time.process_time()
            s = extract_clips(paths, cache, workers=1, progress=False)
            cpu = time.process_time() - c0
    finally:
        if undo is not None:
            undo()
    assert s.extracted == len(paths) and not s.failed, s.to_dict()
    if clock is not None:
        inner = sum(clock.cpu[k] for k, _ in STAGES if k not in ("rest", "save", "hash", "driver"))
        clock.cpu["rest"] += clock.cpu.pop("extract") - inner
        clock.cpu["driver"] += cpu - sum(clock.cpu.values())
    return cpu, s.frames


def child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--repeat", type=int, default=3, help="rounds; each figure keeps its median")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "extract_profile.md")
    args = ap.parse_args()
    paths = clip_paths(args.data)
    if paths is None:
        return 1

    import numpy as np

    from workout_classifier._quiet import silenced_stderr
    from workout_classifier.frames.sampling import read_all_frames
    from workout_classifier.pose.landmarks import PoseSettings
    from workout_classifier.pose.runner import create_pose, shared_static_pose

    load = uptime()
    s15 = PoseSettings(fps=15.0)
    warm = create_pose(s15)  # the model's first load stays off every clock
    with silenced_stderr():
        warm.process(np.zeros((240, 320, 3), np.uint8))
        shared_static_pose(s15).process(np.zeros((240, 320, 3), np.uint8))
    warm.close()
    frames = [read_all_frames(p, s15.fps) for p in paths]
    n = sum(len(f) for f in frames)

    bares, clocks, plains, starts = [], [], [], []
    for r in range(args.repeat):
        bares.append(bare(frames, s15))
        clock = Clock()
        cpu, got = pipeline(paths, s15, clock)
        assert got == n, (got, n)
        clocks.append((cpu, clock.cpu))
        plains.append(pipeline(paths, s15, None)[0])
        c0 = child_cpu()
        worker_startup()
        starts.append(child_cpu() - c0)
        print(f"round {r + 1}: bare {sum(bares[-1]):.2f} s, pipeline {cpu:.2f} s timed, "
              f"{plains[-1]:.2f} s as shipped, worker start {starts[-1]:.2f} s (CPU)")  # fmt: skip

    def med(values):
        return sorted(values)[len(values) // 2]

    b_first, b_rest = med([b[0] for b in bares]), med([b[1] for b in bares])
    b_total = b_first + b_rest
    stage = {k: med([c[1][k] for c in clocks]) for k, _ in STAGES}
    timed_total = med([c[0] for c in clocks])
    plain = med(plains)

    def ms(s: float) -> str:
        return f"{s / n * 1000:.2f}"

    lines = [
        "# Where extraction's CPU time goes",
        "",
        f"{len(paths)} clips of `bench/extract.py`, {n} frames sampled at 15 fps; CPU time "
        f"(`time.process_time`, all threads) of one process, median of {args.repeat} rounds. "
        f"Load when it started: {load}.",
        "",
        "| stage | CPU s | ms per frame | bare loop, ms per frame |",
        "| --- | ---: | ---: | ---: |",
    ]
    for k, label in STAGES:
        ref = {"pose_first": b_first, "pose": b_rest}.get(k)
        lines.append(f"| {label} | {stage[k]:.2f} | {ms(stage[k])} | {ms(ref) if ref else ''} |")
    lines += [
        f"| **pipeline, stages timed, decoding inline** | {timed_total:.2f} | {ms(timed_total)} "
        f"| {ms(b_total)} |",
        f"| **pipeline as shipped** (decoding in its thread, untimed) | {plain:.2f} | {ms(plain)} "
        f"| |",
        "",
        f"- Pipeline as shipped: {plain / b_total:.2f}x the bare loop's CPU time "
        f"({(plain - b_total) / n * 1000:.1f} ms more per frame).",
        f"- One spawned worker's start (Python, imports, model load): {med(starts):.2f} CPU s "
        "in the child.",
        "",
    ]
    write_table(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
