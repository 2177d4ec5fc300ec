"""The job routes of `workout serve` (see `jobs` for what a job is).

- ``POST /api/jobs``: the same upload and options as /api/predict; 202 with ``{"id", ...}`` once
  the clip is stored, then the work goes on in the background.
- ``GET /api/jobs/{id}``: ``{"id", "state", "progress", "stage", "eta_s", "result", "error", ...}``.
- ``GET /api/jobs/{id}/events``: the same, as server-sent events, one per change, ending when the
  job is done or failed.
- ``GET /api/jobs/{id}/result.json`` and ``result.csv``: the answer as a download.
- ``DELETE /api/jobs/{id}``: cancels a queued or running job (its state becomes ``cancelled``, its
  worker goes on to the next clip, its files are removed); a finished job is forgotten (204).
"""

from __future__ import annotations

import asyncio
import json

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from workout_classifier.serve.export import answer_csv
from workout_classifier.serve.jobs import JobStore, cancel_job, run_job
from workout_classifier.serve.uploads import receive_upload

# The routes read the body themselves (streamed, see uploads), so FastAPI cannot infer the
# request body; this describes it for /openapi.json.
UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary", "description": "The video clip."}},
        "required": ["file"],
    }}},
}  # fmt: skip
RETRY_AFTER_S = 30


def upload_options(top: int):
    """The query options of every upload route (a FastAPI dependency): (top, annotate)."""

    def options(
        top_k: int = Query(top, alias="top", ge=1, le=50, description="How many ranked answers."),
        annotate: bool = Query(
            False, description="Also make the annotated clip (where available)."
        ),
    ) -> tuple[int, bool]:
        return top_k, annotate

    return options


async def stored_upload(request: Request, state):
    """The upload, stored, with one more slot of the queue taken (or 503 when it is full).

    The queue is checked before the body is read, so a busy server takes in no more bytes; the
    caller gives the slot back (state.pending -= 1) once the clip is answered."""
    if state.pending >= state.max_pending:
        raise HTTPException(503, "the server is busy with other clips; try again in a minute",
                            headers={"Retry-After": str(RETRY_AFTER_S)})  # fmt: skip
    state.pending += 1
    try:
        return await receive_upload(request, state.uploads, state.max_bytes, state.max_upload_mb)
    except BaseException:
        state.pending -= 1
        raise


def add_job_routes(app: FastAPI, state, store: JobStore, top: int) -> None:
    tasks: set[asyncio.Task] = set()  # kept so that running jobs are not garbage-collected

    def find(job_id: str):
        job = store.get(job_id)
        if job is None:
            raise HTTPException(
                404, f"no such job (finished jobs are kept for {store.ttl_s / 60:g} minutes)"
            )
        return job

    @app.post("/api/jobs", status_code=202, summary="Start answering a clip in the background",
              description="Multipart upload, the clip in the field `file`, the options of /api/predict. "
              "Answers 202 with the job (`id`) as soon as the clip is stored; follow it at "
              "/api/jobs/{id} or /api/jobs/{id}/events.",
              responses={503: {"description": "Too many clips waiting; see Retry-After"}},
              openapi_extra={"requestBody": UPLOAD_BODY})  # fmt: skip
    async def create_job(request: Request, opts: tuple[int, bool] = Depends(upload_options(top))):
        sink = await stored_upload(request, state)
        job = store.create(sink.name)
        task = asyncio.create_task(run_job(state, store, job, sink, *opts))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse(
            job.view(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"}
        )

    @app.get("/api/jobs/{job_id}", summary="A job's state, progress and answer")
    async def get_job(job_id: str):
        return JSONResponse(find(job_id).view(), headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/events", summary="A job's state as server-sent events")
    async def job_events(job_id: str, request: Request):
        job = find(job_id)

        async def stream():
            async for view in store.watch(job):
                if await request.is_disconnected():
                    return
                yield ": keep-alive\n\n" if view is None else f"data: {json.dumps(view)}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})  # fmt: skip

    @app.delete("/api/jobs/{job_id}", summary="Cancel a job, or forget a finished one")
    async def delete_job(job_id: str):
        job = find(job_id)
        if job.state in ("queued", "running"):
            cancel_job(state, store, job)
            return JSONResponse(job.view())
        store.forget(job)
        if job.result and (clip := job.result.get("annotated_video")):
            (state.annotated / clip.rsplit("/", 1)[-1]).unlink(missing_ok=True)
        return Response(status_code=204)

    def finished(job_id: str) -> dict:
        job = find(job_id)
        if job.result is None:
            raise HTTPException(
                409,
                f"the job is {job.state}: no answer yet" if job.state != "failed" else job.error,
            )
        return job.result

    def attachment(job_id: str, ext: str) -> dict:
        stem = finished(job_id)["video"].rsplit(".", 1)[0] or "answer"
        # display_name already made the name harmless; quotes and non-ASCII are still left out here.
        safe = "".join(c if c.isascii() and c not in '"\\' else "_" for c in stem)
        return {"Content-Disposition": f'attachment; filename="{safe}.{ext}"'}

    @app.get("/api/jobs/{job_id}/result.json", summary="A finished job's answer, as a download")
    async def job_json(job_id: str):
        return JSONResponse(finished(job_id), headers=attachment(job_id, "json"))

    @app.get(
        "/api/jobs/{job_id}/result.csv",
        summary="A finished job's answer as CSV (clip, segments, reps)",
    )
    async def job_csv(job_id: str):
        return Response(answer_csv(finished(job_id)), media_type="text/csv; charset=utf-8",
                        headers=attachment(job_id, "csv"))  # fmt: skip
