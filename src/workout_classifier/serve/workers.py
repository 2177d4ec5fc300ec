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
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from workout_classifier.learn.checkpoint import Classifier

OPTIONAL_ANSWERS = ("reps", "form", "timeline")


# ---- the answers every upload gets, asked for by name ----------------------------------------
# The page shows all of them; `predict_videos` computes each only when asked.
ANSWERS = {"reps": True, "form": True, "timeline": True}


def features() -> dict[str, bool]:
    """What /api/health reports this server answers."""
    return {**ANSWERS, "annotated_video": True}


# ---- the pool, seen from the server ---------------------------------------------------------
def new_pool(workers: int, model_path: str | None) -> ProcessPoolExecutor:
    """A pool of `workers` processes, each loading the model from `model_path` once."""
    # spawn, not fork: a forked child would inherit the server's threads and locks
    # (event loop, torch, MediaPipe) in whatever state they were in.
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"),
        initializer=_worker_init, initargs=(model_path,),
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


def _worker_init(model_path: str | None) -> None:
    global _CLF
    from workout_classifier._quiet import silence_stderr_forever

    silence_stderr_forever()  # MediaPipe's log noise; errors come back as results
    _CLF = Classifier.load(model_path)


def worker_warm_up() -> int:
    """Load MediaPipe once so the first real request does not pay for it."""
    from workout_classifier.pose.landmarks import create_pose
    from workout_classifier.predict import pose_settings_for

    create_pose(pose_settings_for(_CLF)).close()
    return os.getpid()


def _scrub(text: str | None, path: str, name: str) -> str | None:
    """Error messages name the uploaded file, never the server's temp path."""
    if text is None:
        return None
    return text.replace(path, name).replace(str(Path(path).parent), "<upload>")


def predict_job(
    path: str, name: str, top: int, annotated_out: str | None = None, cache_dir: str | None = None
) -> dict:
    """Classify one uploaded clip. Returns {"status": http code, "result" | "detail": ...}.

    `cache_dir`: the job's pose cache folder, made and removed by the caller (the
    server), since a worker killed mid-job never gets to remove it; without one,
    a temporary folder next to the upload is used and removed here.
    """
    from workout_classifier.api import Model
    from workout_classifier.frames.video import VideoError, looks_like_video, probe
    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.predict import pose_settings_for

    try:
        probe(path)
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
        res = Model(_CLF).predict([path], top=top, cache=cache_dir, **ANSWERS)[0].to_dict()
        if res["error"] and PoseCache(cache_dir, pose_settings_for(_CLF)).status(path) == "failed":
            return {"status": 422, "detail": _scrub(res["error"], path, name)}
        annotated, note = False, None
        if annotated_out and res["label"] is not None:
            from workout_classifier import annotate

            try:
                # The job's cache already holds the clip's landmarks: not extracted twice.
                annotate.annotate_video(path, annotated_out, clf=_CLF, cache_dir=cache_dir)
                annotated = Path(annotated_out).is_file() and Path(annotated_out).stat().st_size > 0
            except Exception as e:  # the label stands even if drawing fails
                note = f"{type(e).__name__}: {e}"
    out = res
    out["video"] = name
    out["error"] = _scrub(out["error"], path, name)
    return {"status": 200, "result": out, "annotated": annotated, "note": note}
