"""Cached, resumable, parallel pose extraction.

Fills the pose cache (`cache.PoseCache`: one file per clip, keyed by content and
pose settings). Files are written atomically (temp + rename):
a run killed at any moment loses at most the clips in flight, and a rerun skips
every finished clip. Clips that cannot be decoded get a small `.fail.json`
record (also keyed by content) so reruns do not retry them; clips where nobody
is visible are stored normally and flagged by their all-False `detected` mask.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue as queue_mod
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workout_classifier._quiet import silence_stderr_forever
from workout_classifier.frames.sampling import sample_stride
from workout_classifier.frames.video import VideoError, probe
from workout_classifier.pose.cache import PoseCache
from workout_classifier.pose.early import stop_now
from workout_classifier.pose.landmarks import PoseSettings, atomic_write
from workout_classifier.pose.progress import ExtractProgress
from workout_classifier.pose.runner import extract_pose


@dataclass
class ExtractSummary:
    total: int = 0
    cached: int = 0
    extracted: int = 0
    frames: int = 0
    seconds: float = 0.0
    failed: list[dict] = field(default_factory=list)
    no_person: list[dict] = field(default_factory=list)
    interrupted: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "frames_per_second": round(self.fps, 2)}


# ---- worker side -----------------------------------------------------------------
# The frame-count queue of a spawned pool process, set by _init_worker. A process
# global is safe there (each such process serves one run); it is never set in the
# driver, where runs may overlap in threads: its thread gets a callback argument.
_worker_q = None


def _init_worker(q, settings: PoseSettings | None = None) -> None:
    global _worker_q
    _worker_q = q
    silence_stderr_forever()
    if settings is not None:  # load the model now, while the driver plans the work
        from workout_classifier.pose.runner import create_pose

        create_pose(settings).close()


class _Cancelled(BaseException):
    """Stops the in-process worker thread at its next progress report (Ctrl-C)."""


def _extract_one(
    path: str, sha: str, settings: PoseSettings, out: str, fail: str, stop=None, on_frames=None
) -> dict:
    """Extract one clip into the cache; `on_frames(n)` is told of frames as they are done."""

    def report(n: int) -> None:
        if stop is not None and stop.is_set():
            raise _Cancelled
        if on_frames is not None:
            on_frames(n)

    if stop is not None and stop.is_set():
        raise _Cancelled

    try:
        seq = extract_pose(path, settings, on_frames=report, sha256=sha)
    except VideoError as e:
        reason = _one_line(str(e))
        try:  # remembering the failure saves a retry; not being able to is no reason to stop
            _write_json(Path(fail), {"source": path, "reason": reason})
        except OSError:
            pass
        return {"file": path, "status": "failed", "reason": reason, "frames": 0}
    except Exception as e:  # a decoder crash must not stop the run, but is not cached
        reason = _one_line(f"{type(e).__name__}: {e}")
        return {"file": path, "status": "failed", "reason": reason, "frames": 0}
    try:
        seq.save(Path(out))
    except OSError as e:
        reason = f"cannot write to the cache: {e.strerror or e}"
        return {"file": path, "status": "failed", "reason": reason, "frames": 0}
    status = "ok" if seq.detected.any() else "no_person"
    return {
        "file": path,
        "status": status,
        "frames": seq.num_frames,
        "detection_rate": seq.detection_rate,
    }


def _extract_remote(*args) -> dict:
    """`_extract_one` in a pool process, reporting frames through the queue from _init_worker."""
    return _extract_one(*args, on_frames=_worker_q.put if _worker_q is not None else None)


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else "unknown error"


def _write_json(path: Path, obj: dict) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(obj, indent=1).encode())


# ---- driver ------------------------------------------------------------------------
def extract_clips(
    paths: list[str | Path],
    cache: PoseCache,
    workers: int = 1,
    progress: bool = True,
    console=None,
    backend=None,
) -> ExtractSummary:
    """Extract every clip the cache lacks. Never raises for a bad clip.

    workers=1 runs in this process (no start-up cost); with more, this process
    runs one clip at a time in a thread and `workers - 1` spawned processes run
    the others. On Ctrl-C, finished clips stay in the cache, the summary says
    `interrupted`, and KeyboardInterrupt is re-raised. `backend(todo, cache, bar, results)`
    runs the clips elsewhere instead (distributed.RayBackend), under the same contract.
    """
    cache.clean_temp()
    summary = ExtractSummary(total=len(paths))
    todo: list[tuple[str, str, str]] = []  # (clip, data file, failure record)
    for p in paths:
        p = str(p)
        if not os.path.isfile(p):
            summary.failed.append({"file": p, "reason": "file not found"})
            continue
        if os.path.getsize(p) == 0:
            summary.failed.append({"file": p, "reason": "empty file (0 bytes)"})
            continue
        try:
            k = cache.key(p)
        except OSError as e:  # cannot even be read (permissions, I/O error)
            summary.failed.append({"file": p, "reason": f"unreadable file ({e.strerror or e})"})
            continue
        if cache.data_path(k).exists():
            summary.cached += 1
            continue
        if cache.fail_path(k).exists():
            summary.failed.append({"file": p, "reason": cache.failure_reason(k)})
            summary.cached += 1
            continue
        todo.append((p, str(cache.data_path(k)), str(cache.fail_path(k))))
    if not todo:
        _write_summary(cache, summary)
        return summary

    bar = ExtractProgress(len(todo), progress, console)
    t0 = time.perf_counter()
    results: list[dict] = []
    try:
        with bar:
            if backend is not None:
                backend(todo, cache, bar, results)
            elif workers <= 1:
                for p, out, fail in todo:
                    sha = cache.sha256(p)
                    res = _extract_one(p, sha, cache.settings, out, fail, on_frames=bar.frames)
                    results.append(res)
                    bar.clip_done()
            else:
                _run_pool(todo, cache, workers, bar, results)
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        summary.seconds = time.perf_counter() - t0
        for r in results:
            summary.frames += r["frames"]
            if r["status"] == "failed":
                summary.failed.append({"file": r["file"], "reason": r["reason"]})
            else:
                summary.extracted += 1
                if r["status"] == "no_person":
                    summary.no_person.append(
                        {"file": r["file"], "reason": "no person detected in any frame"}
                    )
        _write_summary(cache, summary)
    return summary


def _run_pool(todo, cache: PoseCache, workers: int, bar, results: list) -> None:
    """Run `workers` clips at a time: one in a thread of this process, the others in
    `workers - 1` spawned processes.

    The driver process would otherwise sit idle, and using it saves one process
    start-up (Python, imports, model load: about 0.4 s here) per run.
    """
    n_remote = min(workers - 1, len(todo) - 1)
    stop = threading.Event()
    local = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-local")
    ctx = mp.get_context("spawn")  # never fork a process that may hold MediaPipe threads
    q = ctx.Queue() if n_remote else None
    pool = None
    if n_remote:
        pool = ProcessPoolExecutor(
            max_workers=n_remote, mp_context=ctx, initializer=_init_worker,
            initargs=(q, cache.settings),
        )  # fmt: skip
    order: deque = deque()
    in_flight: dict = {}

    def submit(remote: bool) -> None:
        p, out, fail = order.popleft()
        # Full hashes are passed so workers store them in metadata without rehashing.
        args = (p, cache.sha256(p), cache.settings, out, fail)
        if remote:
            try:
                in_flight[pool.submit(_extract_remote, *args)] = (p, True)
                return
            except BrokenProcessPool:
                pass  # a worker died earlier: this process carries on alone
        # The local thread reports straight to the bar.
        in_flight[local.submit(_extract_one, *args, stop, bar.frames)] = (p, False)

    try:
        for _ in range(n_remote):  # start the processes now; they load while we plan
            pool.submit(os.getpid)
        order.extend(longest_first(todo, cache.settings.fps))
        submit(False)
        for _ in range(n_remote):
            if order:
                submit(True)
        while in_flight:
            done, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
            if q is not None:
                _drain(q, bar)
            for f in done:
                p, remote = in_flight.pop(f)
                try:
                    results.append(f.result())
                except Exception as e:  # a worker died (e.g. killed): record, go on
                    reason = _one_line(f"worker error: {type(e).__name__}: {e}")
                    results.append({"file": p, "status": "failed", "reason": reason, "frames": 0})
                bar.clip_done()
                if order:
                    submit(remote)
        if q is not None:
            _drain(q, bar)
    except BaseException:
        stop.set()
        if pool is not None:
            stop_now(pool)
        local.shutdown(wait=True, cancel_futures=True)  # stops within a few frames
        raise
    local.shutdown(wait=True)
    if pool is not None:
        pool.shutdown(wait=True)


def longest_first(todo: list[tuple], fps: float | None) -> list[tuple]:
    """(clip, ...) items by sampled frames, most first, so that no long clip runs alone at the end."""
    return sorted(todo, key=lambda item: -_expected_frames(item[0], fps))


def _expected_frames(path: str, fps: float | None) -> float:
    """Sampled frames a clip should give, from its header; 0 when unreadable (fails fast)."""
    try:
        info = probe(path)
    except Exception:
        return 0.0
    return info.frame_count / sample_stride(info.fps, fps)


def _drain(q, bar) -> None:
    while True:
        try:
            bar.frames(q.get_nowait())
        except queue_mod.Empty:
            return


def _write_summary(cache: PoseCache, summary: ExtractSummary) -> None:
    try:
        _write_json(cache.root / "last_run.json", summary.to_dict())
    except OSError:
        pass
