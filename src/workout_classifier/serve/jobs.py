"""Jobs of `workout serve`: an uploaded clip answered in the background, with its progress.

`process_upload` is the one path from a stored upload to an answer, shared by the synchronous
/api/predict and by jobs: the worker's `predict_job` in the pool, the job's pose cache made and
removed here (a worker killed mid-job cannot clean up), the upload deleted whatever happens.

A `Job` is what GET /api/jobs/{id} shows: its state (queued, running, done, failed, cancelled),
progress (0..1, never falling), stage, estimated seconds left, and the answer once done (`partial`:
the answer before the annotated clip is drawn; `timeline_so_far`: the timeline of the part of the
clip whose pose is done). Progress comes from the worker (`workers.Reporter`, through
`ServerState.listen`) and is counted in frames of the real pipeline. `JobStore` keeps jobs in
memory: finished ones are swept `ttl_s` after they end, and at most `max_jobs` are kept.
`cancel_job` stops a queued or running one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
import uuid
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from workout_classifier.serve import workers

log = logging.getLogger("workout_classifier.serve")
TERMINAL = ("done", "failed", "cancelled")
DIED = "the worker processing this clip stopped unexpectedly (out of memory, or a crashed decoder); try again"


async def process_upload(state, sink, top: int, annotate: bool, job_id: str | None = None) -> dict:
    """The worker's answer about an upload: {"status", "result" | "detail", ...}; the upload is
    deleted before this returns. `annotate`: also draw the annotated clip (`annotated_video` in
    the result, the URL to fetch it)."""
    try:
        out_id = uuid.uuid4().hex
        out_path = state.annotated / f"{out_id}.mp4"
        want = annotate and state.features["annotated_video"]
        cache_dir = tempfile.mkdtemp(prefix="job-", dir=state.uploads)
        if job_id is not None:
            state.job_dirs[job_id] = cache_dir
        try:
            job = await state.run(workers.predict_job, str(sink.path), sink.name, top,
                                  str(out_path) if want else None, cache_dir, job_id, key=job_id)  # fmt: skip
        except BrokenProcessPool:
            return {"status": 500, "detail": DIED}
        finally:
            state.job_dirs.pop(job_id, None)
            shutil.rmtree(cache_dir, ignore_errors=True)
    finally:
        sink.discard()  # the upload is deleted whatever the answer
    if job["status"] == workers.CANCELLED:  # stopped mid-drawing, maybe: no half clip left
        out_path.unlink(missing_ok=True)
    if job.get("note"):
        log.warning("annotation failed for %s: %s", sink.name, job["note"])
    if job["status"] == 200 and job["annotated"]:
        job["result"]["annotated_video"] = f"/api/annotated/{out_id}.mp4"
    return job


@dataclass
class Job:
    id: str
    video: str
    state: str = "queued"
    progress: float = 0.0
    stage: str = "queued"
    eta_s: float | None = None
    result: dict | None = None
    partial: dict | None = None
    # {"until", "segments"}: the timeline of the part of the clip posed so far, while the pose is found
    timeline_so_far: dict | None = None
    error: str | None = None
    # The HTTP status /api/predict would have answered; workers.CANCELLED once a cancelled job's
    # worker has stopped (200 if it finished before it heard).
    status: int | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None  # time.monotonic() when a worker took it
    ended: float | None = None  # time.monotonic() when done, failed or cancelled
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def view(self) -> dict:
        return {
            "id": self.id, "video": self.video, "state": self.state,
            "progress": round(self.progress, 4), "stage": self.stage, "eta_s": self.eta_s,
            "result": self.result, "partial": self.partial if self.result is None else None,
            "timeline_so_far": self.timeline_so_far if self.result is None else None,
            "error": self.error, "status": self.status,
            "elapsed_s": round((self.ended or time.monotonic()) - self.started, 1) if self.started else None,
        }  # fmt: skip

    def _notify(self) -> None:
        # Wakes every watcher of the old event; later watchers wait on the new one.
        old, self.changed = self.changed, asyncio.Event()
        old.set()


class JobStore:
    """This server's jobs, by id, in memory (used from the event loop only)."""

    def __init__(self, ttl_s: float = 900, max_jobs: int = 500):
        self.ttl_s, self.max_jobs = ttl_s, max_jobs
        self.jobs: dict[str, Job] = {}

    def create(self, video: str) -> Job:
        self.sweep()
        job = Job(id=uuid.uuid4().hex, video=video)
        self.jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def on_message(self, msg: tuple) -> None:
        """A worker's message (workers.Reporter): ("progress", id, stage, p), ("partial", id, answer)
        or ("timeline", id, {"until", "segments"})."""
        job = self.jobs.get(msg[1])
        if job is None or job.state in TERMINAL:
            return
        if msg[0] == "progress":
            self.advance(job, msg[2], msg[3])
        elif msg[0] == "partial":
            job.partial = msg[2]
            job._notify()
        elif msg[0] == "timeline":
            job.timeline_so_far = msg[2]
            job._notify()

    def advance(self, job: Job, stage: str, p: float) -> None:
        now = time.monotonic()
        if job.state == "queued":
            job.state, job.started = "running", now
        # Never falling, and 1 only once the answer is there.
        job.progress = max(job.progress, min(float(p), 0.99))
        job.stage = stage
        ran = now - job.started
        # Time so far over share done: the stages' shares are set to their usual cost (workers.STAGES).
        job.eta_s = (
            round(ran * (1 - job.progress) / job.progress, 1)
            if job.progress >= 0.03 and ran > 0.5
            else None
        )
        job._notify()

    def cancel(self, job: Job) -> None:
        """Mark a queued or running job cancelled now (its worker is told by jobs.cancel_job)."""
        job.state = job.stage = "cancelled"
        job.eta_s, job.ended = None, time.monotonic()
        job.started = job.started or job.ended
        job._notify()

    def forget(self, job: Job) -> None:
        self.jobs.pop(job.id, None)

    def finish(self, job: Job, outcome: dict) -> None:
        if job.state == "cancelled":  # CANCELLED when its worker stopped, 200 if it finished first
            job.status = outcome.get("status")
            job._notify()
            return
        job.ended = time.monotonic()
        job.started = job.started or job.ended
        if outcome["status"] == 200:
            job.state, job.result, job.progress, job.stage = "done", outcome["result"], 1.0, "done"
        else:
            job.state, job.error, job.status, job.stage = (
                "failed",
                outcome["detail"],
                outcome["status"],
                "failed",
            )
        job.eta_s = 0.0 if job.state == "done" else None
        job._notify()

    def sweep(self) -> list[Job]:
        """Forget jobs finished more than ttl_s ago, and the oldest finished past max_jobs."""
        now = time.monotonic()
        ended = sorted(
            (j for j in self.jobs.values() if j.ended is not None), key=lambda j: j.ended
        )
        over = max(0, len(self.jobs) - self.max_jobs)
        gone = [j for i, j in enumerate(ended) if i < over or now - j.ended > self.ttl_s]
        for j in gone:
            del self.jobs[j.id]
        return gone

    async def watch(self, job: Job, keepalive_s: float = 15.0):
        """The job's view now and after every change, until it is done or failed; None every
        `keepalive_s` without a change (the SSE stream's keep-alive)."""
        while True:
            event = job.changed
            yield job.view()
            if job.state in TERMINAL:
                return
            try:
                await asyncio.wait_for(event.wait(), keepalive_s)
            except asyncio.TimeoutError:
                yield None


async def run_job(state, store: JobStore, job: Job, sink, top: int, annotate: bool) -> None:
    """Answer one job in the background; the upload is deleted and the queue slot freed at the end."""
    try:
        if job.state == "cancelled":  # before it even started
            sink.discard()
            return
        outcome = await process_upload(state, sink, top, annotate, job.id)
    except asyncio.CancelledError:
        if job.state != "cancelled":  # the server is stopping, not a cancelled job
            raise
        return  # cancelled while waiting for a worker (process_upload removed its files)
    except Exception as e:  # noqa: BLE001 (a job must end failed, never stay running)
        outcome = {"status": 500, "detail": f"{type(e).__name__}: {e}"}
    finally:
        state.pending -= 1
    store.finish(job, outcome)


def cancel_job(state, store: JobStore, job: Job) -> None:
    """Stop a queued or running job: marked cancelled at once; work no worker has taken is dropped,
    a worker on it stops at its next progress report (a flag file in the job's folder), its
    helper processes with it, and the job's files go as its task ends (process_upload)."""
    store.cancel(job)
    if not state.cancel(job.id) and (folder := state.job_dirs.get(job.id)):
        with contextlib.suppress(OSError):  # the job's folder went: it has just ended
            (Path(folder) / workers.CANCEL_FLAG).touch()
