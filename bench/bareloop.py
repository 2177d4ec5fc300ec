"""The ceiling bench/extract.py judges the pipeline against: bare `pose.process` loops.

`ceiling` times one loop over frames decoded beforehand; `two_loops` runs two such loops at
once in two spawned processes (frames decoded and the model loaded off the clock) and times
both together; `cpu_seconds` is this process's CPU time and its reaped children's. Split out of
extract.py, unchanged, to keep each file short.
"""

from __future__ import annotations

import time
from pathlib import Path


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (pool workers), user + system."""
    import resource

    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def ceiling(frames_per_clip: list[list], settings, fresh: bool = True) -> tuple[float, int, float]:
    """(seconds inside pose.process, frames, CPU seconds) over all pre-decoded frames.

    fresh=True: one new Pose per clip, as tracking must restart for every clip (its
    graph starts on the first process() call, on the clock). fresh=False: one warm
    Pose for all clips, the steady state without restarts (tracking then runs across
    clip boundaries, so this is only a measure of what the restarts cost).
    """
    from workout_classifier._quiet import silenced_stderr
    from workout_classifier.pose.runner import create_pose

    total, n, cpu = 0.0, 0, 0.0
    shared = None if fresh else create_pose(settings)
    if shared is not None:
        with silenced_stderr():
            shared.process(frames_per_clip[0][0][1])
    for frames in frames_per_clip:
        pose = create_pose(settings) if fresh else shared
        with silenced_stderr():
            c0, t0 = cpu_seconds(), time.perf_counter()
            for _, frame in frames:
                pose.process(frame)
            total += time.perf_counter() - t0
            cpu += cpu_seconds() - c0
        if fresh:
            pose.close()
        n += len(frames)
    if shared is not None:
        shared.close()
    return total, n, cpu


def _bare_process(conn, paths: list[str], fps: float) -> None:
    """One of two_loops' processes: decode and warm up, wait for the go, time the bare loop."""
    import numpy as np

    from workout_classifier._quiet import silence_stderr_forever
    from workout_classifier.frames.sampling import read_all_frames
    from workout_classifier.pose.landmarks import PoseSettings
    from workout_classifier.pose.runner import create_pose

    silence_stderr_forever()
    settings = PoseSettings(fps=fps)
    frames = [read_all_frames(p, fps) for p in paths]
    create_pose(settings).process(np.zeros((240, 320, 3), np.uint8))
    conn.send("ready")
    conn.recv()
    t0 = time.monotonic()  # one clock for both processes
    _, n, cpu = ceiling(frames, settings)
    conn.send((t0, time.monotonic(), n, cpu))


def two_loops(paths: list[Path], fps: float, k: int = 2) -> tuple[float, int, float]:
    """(seconds, frames, CPU seconds of the loops) of `k` bare loops at once, one per spawned
    process, each over every clip: from the first loop's start to the last one's end."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = []
    for _ in range(k):
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_bare_process, args=(there, [str(p) for p in paths], fps))
        proc.start()
        procs.append((here, proc))
    for here, _ in procs:
        here.recv()
    for here, _ in procs:
        here.send("go")
    got = [here.recv() for here, _ in procs]
    for _, proc in procs:
        proc.join()
    wall = max(g[1] for g in got) - min(g[0] for g in got)
    return wall, sum(g[2] for g in got), sum(g[3] for g in got)
