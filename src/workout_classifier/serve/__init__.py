"""`workout serve`: one web page and a JSON API over `predict_videos`.

Endpoints (see /openapi.json):

- ``GET /``: the page (``web/index.html``; its script and style under ``/static``,
  nothing from the internet).
- ``GET /api/health``: status, model, classes, upload limit and which optional
  answers (reps, form, timeline, annotated video) this install can give.
- ``POST /api/predict``: a multipart upload with the clip in the field ``file``;
  answers one object, the same as one item of ``workout predict --json``, its
  ``video`` being the uploaded file's name. A clip where nobody is visible is
  still a 200 whose ``error`` says so; 413 past the size limit, 415 when the file
  is not a video, 422 for a video that cannot be decoded, 503 (with Retry-After)
  when too many clips wait. ``?annotate=true`` adds ``annotated_video``, the URL of the clip
  with the skeleton drawn, where the annotation module exists.
- ``GET /api/annotated/{id}.mp4``: that annotated clip, kept ``result_ttl_s``.
- ``POST /api/jobs``: the same upload and options, answered 202 with a job id at once;
  ``GET /api/jobs/{id}`` (state, progress, stage, eta_s, result, error, timeline_so_far) and
  ``/api/jobs/{id}/events`` (the same as server-sent events) follow it; ``result.json`` and
  ``result.csv`` download its answer; ``DELETE /api/jobs/{id}`` cancels it. Jobs are kept
  ``result_ttl_s`` after they end. The page uses these.

Safety: uploads are parsed as they stream in and written under a random name
in this server's private temp folder (the client's file name is only echoed
back, never used as a path), counted byte by byte (413 as soon as the limit is
passed, or at once from Content-Length), and deleted when the answer is sent;
the folder goes when the server stops. Pose work runs in a pool of spawned
processes, each loading the model once, so the event loop only moves bytes and
a crashing decoder cannot take the server down. Binds to 127.0.0.1 by default.

Modules, each one concern:

- ``app``: the FastAPI app factory, its routes and response schemas, and ``run``.
- ``uploads``: streamed multipart parsing, the byte limit, safe file names.
- ``state``: one server's temp folders, process pool and queue limit.
- ``workers``: what runs inside the pool's processes (``predict_job``, which extracts
  the pose split over all cores and reports its progress), how the pool is started and
  stopped, and which answers each upload asks for.
- ``jobs``: the one path from a stored upload to an answer (``process_upload``, for
  /api/predict and jobs alike) and the jobs kept in memory; ``jobroutes``: their routes;
  ``export``: an answer as CSV.
"""

from __future__ import annotations

# Re-exported so `from workout_classifier.serve import create_app, run` (the CLI)
# and the helpers the tests call keep working now that serve is a package.
from workout_classifier.serve.app import create_app, run
from workout_classifier.serve.uploads import display_name, server_name
from workout_classifier.serve.workers import ANSWERS, features, predict_job

__all__ = [
    "ANSWERS",
    "create_app",
    "display_name",
    "features",
    "predict_job",
    "run",
    "server_name",
]
