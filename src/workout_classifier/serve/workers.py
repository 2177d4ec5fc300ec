"""The process pool of `workout serve` and the function its processes run.

Pose work (decoding, MediaPipe, the model) runs in spawned processes rather than
in the server: the event loop then only moves bytes, and a decoder that crashes
takes down one worker, not the server. Each worker loads the model once, in
`_worker_init`, into the module global `_CLF`; `predict_job` is
what the server submits per upload. Everything it returns is plain data, since
it crosses a process boundary.

Also here: the answers each upload asks for (`ANSWERS`), which /api/health reports.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from workout_classifier.learn.checkpoint import Classifier

OPTIONAL_ANSWERS = ("reps", "form", "timeline")
CANCELLED = (
    499  # a job's status when cancelled (nginx's "client closed request"; never sent as HTTP)
)


# ---- the answers every upload gets, asked for by name ----------------------------------------
# The page shows all of them; `predict_videos` computes each only when asked.
ANSWERS = {"reps": True, "form": True, "timeline": True}


def features() -> dict[str, bool]:
    """What /api/health reports this server answers."""
    return {**ANSWERS, "annotated_video": True}


# ---- the pool, seen from the server ---------------------------------------------------------
def new_pool(workers: int, model_path: str | None, progress_q=None) -> ProcessPoolExecutor:
    """A pool of `workers` processes, each loading the model from `model_path` once.

    `progress_q`: a queue of the spawn context where jobs tell the server how far they are
    (`Reporter`'s messages)."""
    # spawn, not fork: a forked child would inherit the server's threads and locks
    # (event loop, torch, MediaPipe) in whatever state they were in.
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"),
        initializer=_worker_init, initargs=(model_path, progress_q),
    )  # fmt: skip


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: running jobs are killed, not waited for."""
    # shutdown() alone would wait for (or leave running) a worker stuck in a long clip.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(timeout=5)


# ---- worker side: runs in the pool's processes ---------------------------------------------
# Set once per process by _worker_init; a module global because the pool's jobs
# are plain functions and cannot carry the (large) model with every call.
_CLF: Classifier | None = None
_PROGRESS_Q = None  # where Reporter sends a job's progress (None: nobody listens)


def _worker_init(model_path: str | None, progress_q=None) -> None:
    global _CLF, _PROGRESS_Q
    from workout_classifier._quiet import silence_stderr_forever

    silence_stderr_forever()  # MediaPipe's log noise; errors come back as results
    _CLF = Classifier.load(model_path)
    _PROGRESS_Q = progress_q


CANCEL_FLAG = "cancel"  # a file the server makes in a job's folder to cancel it (jobs.cancel_job)


class JobCancelled(BaseException):
    """Raised at a cancelled job's next progress report; a BaseException, so that no `except
    Exception` on the way (the one-graph fallback, the annotated clip's) takes it for a failure."""


class Reporter:
    """A job's progress, sent to the server as ("progress", job, stage, 0..1), ("partial", job,
    answer) and ("timeline", job, {"until", "segments"}) messages; silent without a job id or a queue.

    Each stage covers a share of the bar (`stage(name, lo, hi, total)`); `frames(n)` moves it by
    n of the stage's `total` units (sampled frames of the pose, frames of the annotated clip),
    at most every `every_s` seconds, so a long clip sends a few hundred messages, not thousands.
    Both raise JobCancelled once `stop_file` exists."""

    def __init__(self, job_id: str | None, every_s: float = 0.25, stop_file: str | None = None):
        self.job_id = job_id if _PROGRESS_Q is not None else None
        self.every_s, self.last = every_s, 0.0
        self.lo = self.hi = 0.0
        self.name, self.total, self.done = "queued", 1.0, 0
        self.stop_file = stop_file

    def check(self) -> None:
        if self.stop_file is not None and os.path.exists(self.stop_file):
            raise JobCancelled

    def _send(self, *msg) -> None:
        if self.job_id is not None:
            with contextlib.suppress(Exception):  # a progress message is never worth a failed job
                _PROGRESS_Q.put((msg[0], self.job_id, *msg[1:]))

    def stage(self, name: str, lo: float, hi: float, total: float = 1.0) -> None:
        self.check()
        self.name, self.lo, self.hi, self.total, self.done = name, lo, hi, max(total, 1.0), 0
        self.last = time.monotonic()
        self._send("progress", name, lo)

    def frames(self, n: int) -> None:
        self.check()
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            share = min(self.done / self.total, 1.0)
            self._send("progress", self.name, self.lo + (self.hi - self.lo) * share)

    def partial(self, answer: dict) -> None:
        self._send("partial", answer)

    def timeline(self, until: float, segments: list[dict]) -> None:
        self._send("timeline", {"until": round(until, 2), "segments": segments})


class TimelineSoFar:
    """`on_poses` of a job's pose stage: the timeline of the frames posed so far
    (predict.timeline_so_far), sent at most every `every_s` seconds once `min_new_s` more of the
    clip is posed, never taking more than a 30th of the worker's time (about 70 ms on 84 s of
    poses; bench/serve_long.py's 4-minute session took 1.05x a cold `workout predict` as a job with
    it and without it, 2 runs each, 2026-12-06)."""

    def __init__(self, bar: Reporter, every_s: float = 4.0, min_new_s: float = 2.0):
        self.bar, self.every_s, self.min_new_s = bar, every_s, min_new_s
        self.next_at, self.until = time.monotonic() + 1.0, 0.0

    def __call__(self, so_far) -> None:
        if self.bar.job_id is None or time.monotonic() < self.next_at:
            return
        import workout_classifier.analysis.reps  # noqa: F401 (imported once, not counted as the work's cost)
        import workout_classifier.analysis.timeline  # noqa: F401
        from workout_classifier.predict import timeline_so_far

        t0 = time.monotonic()
        seq = so_far()
        until = float(seq.times[-1])
        if until - self.until < self.min_new_s:  # too little more of the clip yet
            self.next_at = time.monotonic() + 0.5
            return
        if segments := timeline_so_far(seq, _CLF):
            self.until = until
            self.bar.timeline(until, segments)
        self.next_at = time.monotonic() + max(self.every_s, 30 * (time.monotonic() - t0))


def worker_warm_up() -> int:
    """Load MediaPipe once so the first real request does not pay for it, and start the process
    that the pose's helper processes (pose/split.py) are forked from."""
    from workout_classifier.pose.runner import create_pose
    from workout_classifier.predict import pose_settings_for

    create_pose(pose_settings_for(_CLF)).close()
    _start_forkserver()
    return os.getpid()


def _start_forkserver() -> None:
    """Here MediaPipe runs, so split.py's helpers come from a fork server: started now, with the
    split module (numpy, OpenCV, this package) already imported in it, so that a long clip's
    helpers start about as soon as `workout predict`'s forked ones rather than each importing
    everything first."""
    if "forkserver" not in mp.get_all_start_methods():
        return
    from multiprocessing import forkserver

    with contextlib.suppress(Exception):  # only a head start: split.py starts it anyway
        mp.set_forkserver_preload(["workout_classifier.pose.split"])
        forkserver.ensure_running()


def _scrub(text: str | None, path: str, name: str) -> str | None:
    """Error messages name the uploaded file, never the server's temp path."""
    if text is None:
        return None
    return text.replace(path, name).replace(str(Path(path).parent), "<upload>")


# Where each stage ends on a job's progress bar, with and without the annotated clip, so that the
# bar moves at an even pace and its ETA holds. Measured on a 30 s 720p session on 2 cores
# (bench/serve_long.py): the pose of the sampled frames (split over the cores) 8 s, drawing and
# encoding every frame of the clip about 30 s.
STAGES = {False: {"reading": 0.01, "pose": 0.95, "answer": 0.99},
          True: {"reading": 0.01, "pose": 0.22, "answer": 0.25, "annotate": 0.99}}  # fmt: skip


def predict_job(path: str, name: str, top: int, annotated_out: str | None = None, cache_dir: str | None = None,
                job_id: str | None = None) -> dict:  # fmt: skip
    """Classify one uploaded clip. Returns {"status": http code, "result" | "detail": ...}.

    `cache_dir`: the job's pose cache folder, made and removed by the caller (the
    server), since a worker killed mid-job never gets to remove it; without one,
    a temporary folder next to the upload is used and removed here. The pose is
    extracted on all cores (`predict.extract_on_all_cores`, as a cold `workout predict`
    does). `job_id`: progress goes to the server under that id (`Reporter`), with the timeline
    so far while the pose is found. A job whose `cache_dir` gets a CANCEL_FLAG file stops at its
    next progress report and answers status CANCELLED.
    """
    bar = Reporter(job_id, stop_file=os.path.join(cache_dir, CANCEL_FLAG) if cache_dir else None)
    try:
        return _predict_job(path, name, top, annotated_out, cache_dir, bar)
    except JobCancelled:
        return {"status": CANCELLED, "detail": "cancelled"}


def _predict_job(path: str, name: str, top: int, annotated_out: str | None, cache_dir: str | None,
                 bar: Reporter) -> dict:  # fmt: skip
    from workout_classifier.api import Model
    from workout_classifier.frames.sampling import sample_stride
    from workout_classifier.frames.video import VideoError, looks_like_video, probe
    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.predict import extract_on_all_cores, pose_settings_for

    ends = STAGES[annotated_out is not None]
    bar.stage("reading", 0.0, ends["reading"])
    settings = pose_settings_for(_CLF)
    try:
        info = probe(path)
    except VideoError as e:
        # Judged by content, not by name or MIME type: a video we cannot decode is
        # 422, anything that does not look like a video at all is 415.
        code = 422 if looks_like_video(path) else 415
        return {"status": code, "detail": _scrub(str(e), path, name)}
    own_cache = cache_dir is None
    with (
        tempfile.TemporaryDirectory(prefix="job-", dir=str(Path(path).parent))
        if own_cache
        else contextlib.nullcontext(cache_dir)
    ) as cache_dir:
        sampled = info.frame_count / sample_stride(info.fps, settings.fps)
        bar.stage("pose", ends["reading"], ends["pose"], sampled)
        if (os.cpu_count() or 1) >= 2:
            extract_on_all_cores(path, PoseCache(cache_dir, settings), on_frames=bar.frames,
                                 on_poses=TimelineSoFar(bar))  # fmt: skip
        bar.stage("answer", ends["pose"], ends["answer"])
        res = Model(_CLF).predict([path], top=top, cache=cache_dir, **ANSWERS)[0].to_dict()
        if res["error"] and PoseCache(cache_dir, settings).status(path) == "failed":
            return {"status": 422, "detail": _scrub(res["error"], path, name)}
        annotated, note = False, None
        if annotated_out and res["label"] is not None:
            from workout_classifier import annotate

            # The answer is known: the page shows it while the annotated clip is drawn.
            bar.partial({**res, "video": name, "error": _scrub(res["error"], path, name)})
            bar.stage("annotate", ends["answer"], ends["annotate"], info.frame_count)
            try:
                # The job's cache already holds the clip's landmarks: not extracted twice.
                annotate.annotate_video(path, annotated_out, clf=_CLF, cache_dir=cache_dir,
                                        on_frames=bar.frames)  # fmt: skip
                annotated = Path(annotated_out).is_file() and Path(annotated_out).stat().st_size > 0
            except Exception as e:  # the label stands even if drawing fails
                note = f"{type(e).__name__}: {e}"
    out = res
    out["video"] = name
    out["error"] = _scrub(out["error"], path, name)
    return {"status": 200, "result": out, "annotated": annotated, "note": note}
