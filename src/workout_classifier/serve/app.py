"""The web app of `workout serve`: the FastAPI factory, its routes and `run`.

`create_app` loads the model (so a bad model file fails before anything binds),
makes a `ServerState` and wires the routes to it: the page and its static files
from the package's ``web/`` folder, /api/health, /api/predict (upload handling in
`uploads`, the work itself in `workers`) and /api/annotated. The route list and
answers are described in the package docstring and at /openapi.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict

from workout_classifier import __version__
from workout_classifier.learn.checkpoint import DEFAULT_MODEL, Classifier
from workout_classifier.serve.camera import LiveWorkers, add_camera_routes
from workout_classifier.serve.jobroutes import (
    UPLOAD_BODY,
    add_job_routes,
    stored_upload,
    upload_options,
)
from workout_classifier.serve.jobs import JobStore, process_upload
from workout_classifier.serve.state import ServerState

# The name it had when serve was one module, so logging settings keep matching.
log = logging.getLogger("workout_classifier.serve")

# The page ships as package data of workout_classifier (pyproject: "web/*"), one
# level above this subpackage.
WEB_DIR = Path(__file__).parent.parent / "web"
_ID = re.compile(r"^[0-9a-f]{32}$")

# Everything from this server only: the page works offline and an injected
# script could not load or send anything elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# ---- the answer, for the OpenAPI schema ------------------------------------------------
class TopAnswer(BaseModel):
    label: str
    probability: float


class Prediction(BaseModel):
    """One answer of `workout predict --json`; optional keys (reps, form, timeline) pass through."""

    model_config = ConfigDict(extra="allow")

    video: str
    label: str | None
    confidence: float | None
    top: list[TopAnswer]
    error: str | None
    warnings: list[str] = []  # what the decoder could not read of the clip; [] for a clean one
    windows: int | None = None
    duration: float | None = None
    detection_rate: float | None = None
    resting: bool | None = (
        None  # resting (posture.py: standing, walking, sitting down) through the whole clip: answered `unknown`
    )
    # The best guess's joint and how far it moved ({joint, degrees}, with the model's `min` or `max`).
    range_of_motion: dict | None = None
    out_of_range: bool | None = (
        None  # too little (or, for a hold, too much) for it: answered `unknown`
    )
    # The clip's stance (analysis/stance.py: torso_tilt, hands_up, hands_low, feet_apart) and whether the
    # best guess's body rules hold; `stance_rule`, the rule broken ({measure, value, min|max, says}).
    stance: dict | None = None
    out_of_stance: bool | None = None
    stance_rule: dict | None = None
    # A clip of several exercises: [{label, seconds}] of each its timeline gives 8 s or more; [] otherwise.
    exercises: list[dict] = []
    annotated_video: str | None = None


class Problem(BaseModel):
    detail: str


class Health(BaseModel):
    status: str
    version: str
    model: dict
    classes: list[str]
    max_upload_mb: float
    workers: int
    features: dict[str, bool]


# ---- the app ----------------------------------------------------------------------------------
def create_app(
    model_path: str | Path | None = None,
    max_upload_mb: float = 200,
    workers: int = 2,
    *,
    tmp_dir: str | Path | None = None,
    warm_up: bool = True,
    max_pending: int = 32,
    result_ttl_s: float = 900,
    top: int = 3,
    camera_sessions: int = 4,
) -> FastAPI:
    """The web app. Loads the model now (raises ModelFileError for a bad file).

    `tmp_dir`: where the server's private temp folder is made (default: the system's);
    `warm_up`: start the worker processes at startup rather than on the first upload;
    `max_pending`: uploads waiting or in work beyond which new ones get 503.
    """
    if max_upload_mb <= 0:
        raise ValueError("max_upload_mb must be positive")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    model_path = str(model_path) if model_path else None
    clf = Classifier.load(model_path)
    state = ServerState(model_path, max_upload_mb, workers, tmp_dir, max_pending, result_ttl_s)
    camera = LiveWorkers(model_path, max_sessions=camera_sessions)  # WS /api/live, see camera.py
    jobs = JobStore(result_ttl_s)  # /api/jobs, see jobs.py and jobroutes.py

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        state.open()
        state.listen(asyncio.get_running_loop(), jobs.on_message)
        sweeper = asyncio.create_task(_sweep_forever(state, jobs))
        try:
            if warm_up:
                await state.warm_up()
            yield
        finally:
            sweeper.cancel()
            state.close()
            camera.close()

    app = FastAPI(
        title="workout-classifier",
        version=__version__,
        description="Upload a workout clip; get the exercise (and reps, form, timeline where available).",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    app.state.server = state
    app.state.camera = camera
    app.state.jobs = jobs
    add_camera_routes(app, camera)
    add_job_routes(app, state, jobs, top)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(
            WEB_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"}
        )

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.get("/api/health", response_model=Health, summary="Server status, model and limits")
    async def health():
        return {
            "status": "ok",
            "version": __version__,
            "model": {"name": clf.model_name, "file": Path(model_path or DEFAULT_MODEL).name},
            "classes": clf.classes,
            "max_upload_mb": max_upload_mb,
            "workers": workers,
            "features": {**state.features, "camera": True},
        }

    @app.post(
        "/api/predict",
        summary="Which exercise a clip shows",
        description="Multipart upload, the clip in the field `file`. Answers the same object as one "
        "item of `workout predict --json`. A clip where nobody is visible answers 200 with `label` "
        "null and the reason in `error`.",
        response_model=Prediction,
        responses={
            400: {"model": Problem, "description": "Malformed or interrupted upload"},
            413: {"model": Problem, "description": "Larger than the server's limit"},
            415: {"model": Problem, "description": "Not a video, or not a multipart upload"},
            422: {"model": Problem, "description": "A video that cannot be decoded, or no file"},
            500: {"model": Problem, "description": "Storing the clip failed, or its worker died"},
            503: {"model": Problem, "description": "Too many clips waiting; try again shortly"},
        },
        openapi_extra={"requestBody": UPLOAD_BODY},
    )
    async def predict(request: Request, opts: tuple[int, bool] = Depends(upload_options(top))):
        sink = await stored_upload(request, state)
        try:
            job = await process_upload(state, sink, *opts)
        finally:
            state.pending -= 1
        if job["status"] != 200:
            raise HTTPException(job["status"], job["detail"])
        return JSONResponse(job["result"])

    @app.get("/api/annotated/{name}", summary="The annotated clip made for an earlier request",
             responses={404: {"model": Problem}})  # fmt: skip
    async def annotated(name: str):
        # Only names this server made (32 hex digits): nothing else in or
        # outside the folder can be reached through this route.
        stem = name.removesuffix(".mp4")
        path = state.annotated / f"{stem}.mp4"
        if not _ID.match(stem) or not path.is_file():
            raise HTTPException(404, "no such annotated clip (they are kept for a limited time)")
        return FileResponse(path, media_type="video/mp4")

    return app


async def _sweep_forever(state: ServerState, jobs: JobStore, every_s: float = 60.0) -> None:
    while True:
        await asyncio.sleep(every_s)
        jobs.sweep()
        with contextlib.suppress(OSError):
            state.sweep()


def run(host: str = "127.0.0.1", port: int = 8000, model_path: str | Path | None = None,
        max_upload_mb: float = 200, workers: int = 2) -> None:  # fmt: skip
    """Start the server (blocking). Raises ModelFileError before binding for a bad model."""
    import uvicorn

    app = create_app(model_path, max_upload_mb=max_upload_mb, workers=workers)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"open http://{shown}:{port}/ in a browser (Ctrl-C stops the server)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
