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
  is not a video, 422 for a video that cannot be decoded, 503 when too many
  clips wait. ``?annotate=true`` adds ``annotated_video``, the URL of the clip
  with the skeleton drawn, where the annotation module exists.
- ``GET /api/annotated/{id}.mp4``: that annotated clip, kept ``result_ttl_s``.

Safety: uploads are parsed as they stream in and written under a random name
in this server's private temp folder (the client's file name is only echoed
back, never used as a path), counted byte by byte (413 as soon as the limit is
passed, or at once from Content-Length), and deleted when the answer is sent;
the folder goes when the server stops. Pose work runs in a pool of spawned
processes, each loading the model once, so the event loop only moves bytes and
a crashing decoder cannot take the server down. Binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import multiprocessing as mp
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePosixPath

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict
from starlette.requests import ClientDisconnect

try:  # python-multipart >= 0.0.13
    from python_multipart.multipart import MultipartParser, parse_options_header
except ImportError:  # pragma: no cover - older python-multipart
    from multipart.multipart import MultipartParser, parse_options_header

from workout_classifier import __version__
from workout_classifier.checkpoint import DEFAULT_MODEL, Classifier

log = logging.getLogger("workout_classifier.serve")

WEB_DIR = Path(__file__).parent / "web"
MB = 1024 * 1024
# Bytes a multipart body may carry besides the file itself (boundaries, headers, small fields).
FORM_OVERHEAD = 64 * 1024
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".3gp", ".ts", ".wmv", ".flv"}
OPTIONAL_ANSWERS = ("reps", "form", "timeline")
_ID = re.compile(r"^[0-9a-f]{32}$")

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
    windows: int | None = None
    duration: float | None = None
    detection_rate: float | None = None
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


# ---- optional answers from the beyond-a-label work (issue 5), found at run time ------------
def optional_predict_options() -> dict:
    """`reps=True, form=True, timeline=True` for those `predict_videos` accepts."""
    from workout_classifier.predict import predict_videos

    params = inspect.signature(predict_videos).parameters
    return {k: True for k in OPTIONAL_ANSWERS if k in params}


def annotate_function():
    """`workout_classifier.annotate.annotate_video` where it exists, else None."""
    try:
        from workout_classifier import annotate
    except ImportError:
        return None
    fn = getattr(annotate, "annotate_video", None)
    return fn if callable(fn) else None


def features() -> dict[str, bool]:
    opts = optional_predict_options()
    return {**{k: k in opts for k in OPTIONAL_ANSWERS}, "annotated_video": annotate_function() is not None}


# ---- worker side: runs in the pool's processes ---------------------------------------------
_CLF: Classifier | None = None
_MODEL_PATH: str | None = None


def _worker_init(model_path: str | None) -> None:
    global _CLF, _MODEL_PATH
    from workout_classifier._quiet import silence_stderr_forever

    silence_stderr_forever()  # MediaPipe's log noise; errors come back as results
    _MODEL_PATH = model_path
    _CLF = Classifier.load(model_path)


def _worker_warm_up() -> int:
    """Load MediaPipe once so the first real request does not pay for it."""
    from workout_classifier.pose import create_pose
    from workout_classifier.predict import pose_settings_for

    create_pose(pose_settings_for(_CLF)).close()
    return os.getpid()


def _scrub(text: str | None, path: str, name: str) -> str | None:
    """Error messages name the uploaded file, never the server's temp path."""
    if text is None:
        return None
    return text.replace(path, name).replace(str(Path(path).parent), "<upload>")


def _annotate_kwargs(fn, res: dict, cache_dir: str, top: int) -> dict | None:
    """Arguments for annotate_video beyond (video, out_path), chosen by parameter name."""
    from workout_classifier.predict import public

    offer = {
        "clf": _CLF, "classifier": _CLF, "result": public(res), "prediction": public(res),
        "answer": public(res), "sequence": res.get("sequence"), "seq": res.get("sequence"),
        "pose": res.get("sequence"), "cache_dir": cache_dir, "cache": cache_dir, "top": top,
    }  # fmt: skip
    kwargs = {}
    params = list(inspect.signature(fn).parameters.values())[2:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in ("model", "model_path"):
            wants_obj = "Classifier" in str(p.annotation)
            kwargs[p.name] = _CLF if wants_obj else (_MODEL_PATH or str(DEFAULT_MODEL))
        elif p.name in offer and offer[p.name] is not None:
            kwargs[p.name] = offer[p.name]
        elif p.default is p.empty:
            return None  # a required argument we cannot fill
    return kwargs


def predict_job(path: str, name: str, top: int, annotated_out: str | None = None) -> dict:
    """Classify one uploaded clip. Returns {"status": http code, "result" | "detail": ...}."""
    from workout_classifier.extract import PoseCache
    from workout_classifier.predict import pose_settings_for, predict_videos, public
    from workout_classifier.video import VideoError, looks_like_video, probe

    try:
        probe(path)
    except VideoError as e:
        code = 422 if looks_like_video(path) else 415
        return {"status": code, "detail": _scrub(str(e), path, name)}
    opts = optional_predict_options()
    with tempfile.TemporaryDirectory(prefix="job-", dir=str(Path(path).parent)) as cache_dir:
        res = predict_videos([path], _CLF, cache_dir=cache_dir, top=top, keep_internal=True, **opts)[0]
        if res["error"] and PoseCache(cache_dir, pose_settings_for(_CLF)).status(path) == "failed":
            return {"status": 422, "detail": _scrub(res["error"], path, name)}
        annotated, note = False, None
        fn = annotate_function() if annotated_out else None
        if fn is not None and res["label"] is not None:
            kwargs = _annotate_kwargs(fn, res, cache_dir, top)
            if kwargs is None:
                note = "annotate_video needs arguments this server does not know"
            else:
                try:
                    fn(path, annotated_out, **kwargs)
                    annotated = Path(annotated_out).is_file() and Path(annotated_out).stat().st_size > 0
                except Exception as e:  # the label stands even if drawing fails
                    note = f"{type(e).__name__}: {e}"
    out = public(res)
    out["video"] = name
    out["error"] = _scrub(out["error"], path, name)
    return {"status": 200, "result": out, "annotated": annotated, "note": note}


# ---- upload: streamed multipart parsing with a byte limit -----------------------------------
class UploadTooLarge(Exception):
    pass


def display_name(raw: str) -> str:
    """The client's file name reduced to a harmless label: last path part, printable, short."""
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    name = name.lstrip(".") or "upload"
    return name[:120]


def server_name(client_name: str) -> str:
    """A fresh random file name, keeping only a known video suffix of the client's name."""
    suffix = PurePosixPath(client_name).suffix.lower()
    return uuid.uuid4().hex + (suffix if suffix in VIDEO_SUFFIXES else ".bin")


class _UploadSink:
    """Callbacks for MultipartParser: the part named `file` goes to disk, the rest is counted."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder, self.max_bytes = folder, max_bytes
        self.path: Path | None = None
        self.name = "upload"
        self.size = 0
        self.other = 0
        self.fh = None
        self._in_file = False
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }  # fmt: skip

    def _part_begin(self):
        self._headers = {}

    def _header_field(self, data, start, end):
        self._field += data[start:end]

    def _header_value(self, data, start, end):
        self._value += data[start:end]

    def _header_end(self):
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self):
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if params.get(b"name") == b"file" and self.path is None:
            self.name = display_name(params.get(b"filename", b"").decode("utf-8", "replace"))
            self.path = self.folder / server_name(self.name)
            self.fh = open(self.path, "xb")  # exclusive: never overwrite anything
            self._in_file = True

    def _part_data(self, data, start, end):
        n = end - start
        if self._in_file:
            self.size += n
            if self.size > self.max_bytes:
                raise UploadTooLarge
            self.fh.write(data[start:end])
        else:
            self.other += n
            if self.other > FORM_OVERHEAD:
                raise UploadTooLarge

    def _part_end(self):
        if self._in_file:
            self._in_file = False
            self.fh.close()

    def discard(self):
        if self.fh is not None and not self.fh.closed:
            self.fh.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _too_large(limit_mb: float) -> HTTPException:
    return HTTPException(413, f"the file is larger than this server's limit of {limit_mb:g} MB")


async def receive_upload(request: Request, folder: Path, max_bytes: int, limit_mb: float) -> _UploadSink:
    """Stream the multipart body to a file in `folder`; raises HTTPException on bad input."""
    mime, params = parse_options_header(request.headers.get("content-type", ""))
    if mime != b"multipart/form-data" or not params.get(b"boundary"):
        raise HTTPException(415, "send the clip as multipart/form-data in a field named 'file'")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        raise _too_large(limit_mb)
    sink = _UploadSink(folder, max_bytes)
    parser = MultipartParser(params[b"boundary"], sink.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except UploadTooLarge:
        sink.discard()
        raise _too_large(limit_mb) from None
    except ClientDisconnect:
        sink.discard()
        raise HTTPException(400, "the upload was interrupted") from None
    except Exception as e:  # malformed multipart body
        sink.discard()
        raise HTTPException(400, f"malformed multipart body ({type(e).__name__})") from None
    if sink.path is None:
        raise HTTPException(422, "no file in the upload: send the clip in a multipart field named 'file'")
    if sink.fh is not None and not sink.fh.closed:  # body ended inside the file part
        sink.discard()
        raise HTTPException(400, "the upload ended before the file did")
    if sink.size == 0:
        sink.discard()
        raise HTTPException(422, "empty file (0 bytes)")
    return sink


# ---- the server's state: temp folder, process pool, queue limit -----------------------------
class ServerState:
    def __init__(self, clf: Classifier, model_path: str | None, max_upload_mb: float, workers: int,
                 tmp_dir: str | Path | None, max_pending: int, result_ttl_s: float):  # fmt: skip
        self.clf, self.model_path = clf, model_path
        self.max_upload_mb = max_upload_mb
        self.max_bytes = int(max_upload_mb * MB)
        self.workers, self.max_pending, self.result_ttl_s = workers, max_pending, result_ttl_s
        self.tmp_parent = str(tmp_dir) if tmp_dir is not None else None
        self.root: Path | None = None
        self.pending = 0
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.features = features()

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def annotated(self) -> Path:
        return self.root / "annotated"

    def open(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="workout-serve-", dir=self.tmp_parent))
        self.uploads.mkdir()
        self.annotated.mkdir()

    def pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=mp.get_context("spawn"),
                    initializer=_worker_init, initargs=(self.model_path,),
                )  # fmt: skip
            return self._pool

    def _drop_pool(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        _stop_pool(pool)

    async def run(self, fn, *args):
        pool = self.pool()
        try:
            return await asyncio.wrap_future(pool.submit(fn, *args))
        except BrokenProcessPool:
            self._drop_pool(pool)  # a worker died (e.g. out of memory): the next job gets a fresh pool
            raise

    async def warm_up(self) -> None:
        await asyncio.gather(*(self.run(_worker_warm_up) for _ in range(self.workers)))

    def sweep(self) -> None:
        """Remove annotated clips older than the TTL."""
        cutoff = time.time() - self.result_ttl_s
        for f in self.annotated.iterdir():
            with contextlib.suppress(OSError):
                if f.stat().st_mtime < cutoff:
                    f.unlink()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            _stop_pool(pool)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(timeout=5)


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
    state = ServerState(clf, model_path, max_upload_mb, workers, tmp_dir, max_pending, result_ttl_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        state.open()
        sweeper = asyncio.create_task(_sweep_forever(state))
        try:
            if warm_up:
                await state.warm_up()
            yield
        finally:
            sweeper.cancel()
            state.close()

    app = FastAPI(
        title="workout-classifier",
        version=__version__,
        description="Upload a workout clip; get the exercise (and reps, form, timeline where available).",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    app.state.server = state

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

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
            "features": state.features,
        }

    upload_body = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "description": "The video clip."}},
                    "required": ["file"],
                }
            }
        },
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
            503: {"model": Problem, "description": "Too many clips waiting; try again shortly"},
        },
        openapi_extra={"requestBody": upload_body},
    )
    async def predict(
        request: Request,
        top_k: int = Query(top, alias="top", ge=1, le=50, description="How many ranked answers."),
        annotate: bool = Query(False, description="Also make the annotated clip (where available)."),
    ):
        if state.pending >= state.max_pending:
            raise HTTPException(503, "the server is busy with other clips; try again in a minute",
                                headers={"Retry-After": "30"})  # fmt: skip
        state.pending += 1
        try:
            sink = await receive_upload(request, state.uploads, state.max_bytes, max_upload_mb)
            try:
                out_id = uuid.uuid4().hex
                out_path = state.annotated / f"{out_id}.mp4"
                want = annotate and state.features["annotated_video"]
                try:
                    job = await state.run(predict_job, str(sink.path), sink.name, top_k,
                                          str(out_path) if want else None)  # fmt: skip
                except BrokenProcessPool:
                    raise HTTPException(500, "the worker processing this clip stopped unexpectedly") from None
            finally:
                sink.discard()
        finally:
            state.pending -= 1
        if job["status"] != 200:
            raise HTTPException(job["status"], job["detail"])
        if job.get("note"):
            log.warning("annotation failed for %s: %s", sink.name, job["note"])
        result = job["result"]
        if job["annotated"]:
            result["annotated_video"] = f"/api/annotated/{out_id}.mp4"
        return JSONResponse(result)

    @app.get("/api/annotated/{name}", summary="The annotated clip made for an earlier request",
             responses={404: {"model": Problem}})  # fmt: skip
    async def annotated(name: str):
        stem = name.removesuffix(".mp4")
        path = state.annotated / f"{stem}.mp4"
        if not _ID.match(stem) or not path.is_file():
            raise HTTPException(404, "no such annotated clip (they are kept for a limited time)")
        return FileResponse(path, media_type="video/mp4")

    return app


async def _sweep_forever(state: ServerState, every_s: float = 60.0) -> None:
    while True:
        await asyncio.sleep(every_s)
        with contextlib.suppress(OSError):
            state.sweep()


def run(host: str = "127.0.0.1", port: int = 8000, model_path: str | Path | None = None,
        max_upload_mb: float = 200, workers: int = 2) -> None:  # fmt: skip
    """Start the server (blocking). Raises ModelFileError before binding for a bad model."""
    import uvicorn

    app = create_app(model_path, max_upload_mb=max_upload_mb, workers=workers)
    shown = f"[{host}]" if ":" in host else host
    print(f"open http://{shown}:{port}/ in a browser (Ctrl-C stops the server)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
