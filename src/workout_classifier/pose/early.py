"""Helper processes for one clip (split.py), forked at the start of a cold `workout predict`.

Where the time of a cold `workout predict` of a 5 s clip went (docs/speed.md): this process and each
of split.py's helpers imported MediaPipe (about 0.3-0.45 s each, at the same time on two cores), and
each started its main-person model on its first look (about 0.07 s). Here this process imports
MediaPipe once, at the start of the command, and forks the helpers right away: they do not import it
again, and start their main-person model while this process loads the rest (the model, the clip's
header), so they are ready about as soon as it is and take an equal share of the frames
(split.HELPER_START_EARLY_S).

Importing MediaPipe starts no thread; its graphs do, so none is made before the fork (can_fork),
and the helpers make theirs after it. Only the standard library is imported at the top of this
file: the command line imports it before anything heavy.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

MAX_PARTS = 8  # helpers cost memory (one MediaPipe each) and a start-up; more rarely pays

_started: tuple | None = (
    None  # (pool, progress queue, helpers) from start(), until split.py takes it
)


def default_parts() -> int:
    """Processes to cut one clip over: every usable core, at most MAX_PARTS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PARTS))


def can_fork() -> bool:
    """Forking is safe only before MediaPipe runs here (its graphs start threads) and while this
    process has no other threads (a server's)."""
    return (
        "fork" in mp.get_all_start_methods()
        and threading.active_count() == 1
        and "mediapipe" not in sys.modules
    )


# A helper's frame-count queue (set by helper_init, in a helper process only), so the caller's
# progress counts every chunk's frames as they are done, not only its own.
helper_q = None


def helper_init(q=None) -> None:
    """The start of every helper of split.py."""
    global helper_q
    from workout_classifier._quiet import silence_stderr_forever

    helper_q = q
    silence_stderr_forever()  # its errors come back as exceptions


def _ready(q) -> None:
    """An early helper's start: its static pose model (the main-person look's) started and run
    once on a blank frame while no work has come yet; it holds nothing from frame to frame."""
    import numpy as np

    from workout_classifier._quiet import silenced_stderr
    from workout_classifier.pose.landmarks import PoseSettings
    from workout_classifier.pose.runner import shared_static_pose

    helper_init(q)
    with silenced_stderr():
        shared_static_pose(PoseSettings()).process(np.zeros((64, 64, 3), np.uint8))


def start(parts: int | None = None) -> bool:
    """Import MediaPipe, then fork `parts - 1` helpers (default: one per core but this one's);
    False where it cannot. Importing it starts no thread (its graphs do): the helpers need not
    import it again."""
    global _started
    helpers = (parts or default_parts()) - 1
    if _started is not None or helpers < 1 or not can_fork():
        return False
    from workout_classifier.pose.runner import import_mediapipe

    import_mediapipe()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    pool = ProcessPoolExecutor(helpers, mp_context=ctx, initializer=_ready, initargs=(q,))
    pool.submit(os.getpid)  # forks every helper now (a fork context starts them all at once)
    _started = (pool, q, helpers)
    atexit.register(stop)
    return True


def take(helpers: int) -> tuple | None:
    """(pool, queue) of the helpers started early, when there are at least `helpers`; else None
    (and any early helpers are stopped: the caller makes its own)."""
    global _started
    held, _started = _started, None
    if held is None:
        return None
    if held[2] < helpers or helpers < 1:
        stop_now(held[0])
        return None
    return held[0], held[1]


def stop() -> None:
    """Stop helpers that were started but never used."""
    take(0)


def stop_now(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's processes now, mid-work if need be (Ctrl-C, a cancelled job), without waiting."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
