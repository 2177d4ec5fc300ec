"""The web API (`workout serve`) through FastAPI's TestClient.

One app (two worker processes, started once) serves most tests: a real clip
(skipped without ../shared), a generated clip with no person, files that are not
video, hostile file names and ten uploads at once. A second app with a tiny
upload limit checks 413, never starting its worker pool. The model is the
shipped one where it exists, else a tiny one trained here on synthetic
landmarks in a few seconds (its answers are arbitrary; these tests check the
plumbing, not accuracy).
"""

from __future__ import annotations

import errno
import inspect
import os
import re
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import real_clip, write_video
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from workout_classifier import serve as serve_mod
from workout_classifier.learn.checkpoint import DEFAULT_MODEL, ModelFileError
from workout_classifier.serve import create_app, display_name, server_name

REAL_CLIP = "squat/squat_16.mp4"  # about 2 s, one person
KEYS = {
    "video",
    "label",
    "confidence",
    "top",
    "error",
}  # always; plus windows, duration, detection_rate


def model_for_tests(folder: Path) -> Path | None:
    """$WORKOUT_TEST_MODEL, else the shipped model (None), else a tiny synthetic one."""
    if os.environ.get("WORKOUT_TEST_MODEL"):
        return Path(os.environ["WORKOUT_TEST_MODEL"])
    if DEFAULT_MODEL.is_file():
        return None
    from synth import synthetic_tracks

    from workout_classifier.learn.features import FeatureConfig
    from workout_classifier.learn.train import TrainConfig, fit

    if _TINY and _TINY[0].is_file():  # trained once per test session
        return _TINY[0]
    path = Path(folder) / "tiny.safetensors"
    tracks, y, groups, classes = synthetic_tracks(n_per_class=4)
    cfg = TrainConfig(epochs=2, patience=2, windows_per_clip=1, seed=0, threads=1)
    clf, _ = fit(
        tracks, y, groups, classes, "trees", FeatureConfig(steps=24, streams=("raw",)), cfg
    )
    clf.save(path)
    _TINY[:] = [path]
    return path


_TINY: list[Path] = []


@pytest.fixture(scope="session")
def model_file(tmp_path_factory):
    return model_for_tests(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def served(model_file, tmp_path_factory):
    """(client, app, tmp root): the app's private folder is made under tmp root/a/b."""
    root = tmp_path_factory.mktemp("serve")
    (root / "a" / "b").mkdir(parents=True)
    app = create_app(model_file, max_upload_mb=1, workers=2, tmp_dir=root / "a" / "b")
    with TestClient(app) as client:
        yield client, app, root


@pytest.fixture(scope="module")
def client(served):
    return served[0]


@pytest.fixture(scope="module")
def no_person_clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("clips") / "ball.mp4", frames=20, fps=20)


def upload_dir(app) -> Path:
    return app.state.server.uploads


def post(client, data: bytes, name: str = "clip.mp4", mime: str = "video/mp4", **kw):
    return client.post("/api/predict", files={"file": (name, data, mime)}, **kw)


# ---- health, schema, page ----------------------------------------------------------------
def test_health_and_openapi_schema(client):
    h = client.get("/api/health")
    assert h.status_code == 200
    body = h.json()
    assert body["status"] == "ok" and len(body["classes"]) >= 2
    assert body["max_upload_mb"] == 1 and body["workers"] == 2
    assert set(body["features"]) == {"reps", "form", "timeline", "annotated_video", "camera"}

    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/api/predict"]["post"]
    assert "multipart/form-data" in op["requestBody"]["content"]
    assert "file" in op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"200", "413", "415", "422"} <= set(op["responses"])
    assert "/api/health" in schema["paths"]


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v:
                self.refs.append(v)


def test_page_and_everything_it_loads_come_from_the_app(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    refs = _Refs()
    refs.feed(page.text)
    assert {"/static/app.js", "/static/style.css"} <= set(refs.refs)
    for ref in refs.refs:
        assert ref.startswith("/") and not ref.startswith("//"), f"not served by the app: {ref}"
        assert client.get(ref).status_code == 200, ref
    for asset in ("/static/app.js", "/static/style.css"):
        text = client.get(asset).text
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), (
            f"{asset} loads from elsewhere"
        )


# ---- clips -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_clip_gets_an_answer(served, real_clips):
    client, app, _ = served
    clip = real_clip(real_clips, REAL_CLIP)
    r = post(client, clip.read_bytes(), name=clip.name)
    assert r.status_code == 200, r.text
    res = r.json()
    assert KEYS | {"windows", "duration", "detection_rate"} <= set(res)
    classes = client.get("/api/health").json()["classes"]
    assert res["error"] is None and res["label"] in classes + ["unknown"]
    assert res["video"] == "squat_16.mp4"  # the client's name, not the server's temp path
    probs = [t["probability"] for t in res["top"]]
    assert (
        probs == sorted(probs, reverse=True)
        and all(0 <= p <= 1 for p in probs)
        and sum(probs) <= 1.001
    )
    assert res["confidence"] == res["top"][0]["probability"]
    assert 1.5 < res["duration"] < 2.5 and res["detection_rate"] > 0.5 and res["windows"] >= 1
    assert list(upload_dir(app).iterdir()) == []  # removed after use


def test_clip_with_no_person_is_answered_with_the_reason(served, no_person_clip):
    client, app, _ = served
    r = post(client, no_person_clip.read_bytes(), name="ball.mp4")
    assert r.status_code == 200, r.text
    res = r.json()
    assert KEYS <= set(res)
    assert res["label"] is None and res["top"] == [] and "no person" in res["error"]
    assert res["video"] == "ball.mp4"
    assert list(upload_dir(app).iterdir()) == []


def test_text_file_is_415_with_a_message(served):
    client, app, _ = served
    r = post(client, b"this is not a video\n" * 100, name="notes.txt", mime="text/plain")
    assert r.status_code == 415
    assert "not a video" in r.json()["detail"]
    # A text file wearing a video name and type is still caught by its content.
    r = post(client, b"hello\n" * 100, name="sneaky.mp4")
    assert r.status_code == 415 and "not a video" in r.json()["detail"]
    assert list(upload_dir(app).iterdir()) == []


def test_file_exactly_at_the_limit_is_accepted_as_to_size(served):
    client, app, _ = served  # limit: 1 MB
    r = post(client, b"x" * (1024 * 1024), name="ok.txt")
    assert r.status_code == 415  # judged by its content, not refused for its size
    r = post(client, b"x" * (1024 * 1024 + 1), name="ok.txt")
    assert r.status_code == 413
    assert list(upload_dir(app).iterdir()) == []


def test_broken_video_is_422_and_empty_or_missing_file_too(client):
    fake = b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000)  # starts like an mp4, decodes as nothing
    r = post(client, fake, name="broken.mp4")
    assert r.status_code == 422 and "unreadable" in r.json()["detail"]
    assert "/tmp" not in r.json()["detail"] and "workout-serve" not in r.json()["detail"]
    r = post(client, b"", name="empty.mp4")
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = client.post("/api/predict", files={"video": ("x.mp4", b"abc", "video/mp4")})
    assert r.status_code == 422 and "'file'" in r.json()["detail"]
    r = client.post("/api/predict", content=b"raw bytes", headers={"content-type": "video/mp4"})
    assert r.status_code == 415 and "multipart" in r.json()["detail"]


def test_hostile_file_names_never_escape_the_upload_folder(served, no_person_clip, tmp_path):
    client, app, root = served
    data = no_person_clip.read_bytes()
    names = ["../../x.mp4", "..\\..\\x.mp4", "/tmp/x.mp4", "a/../../../../x.mp4", "....//x.mp4"]
    existed = Path("/tmp/x.mp4").exists()
    for name in names:
        r = post(client, data, name=name)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["video"] == "x.mp4"
    assert not list(root.rglob("x.mp4")), "a client's name was used as a path"
    assert Path("/tmp/x.mp4").exists() == existed
    assert list(upload_dir(app).iterdir()) == []

    for name in names:
        assert re.fullmatch(r"[0-9a-f]{32}\.mp4", server_name(display_name(name)))
    assert re.fullmatch(r"[0-9a-f]{32}\.bin", server_name("run.sh"))
    assert display_name("../../\x00\x1b[31mevil.mp4") == "[31mevil.mp4"
    assert display_name("..") == "upload" and display_name("") == "upload"


def test_ten_uploads_at_once_are_all_answered_and_the_loop_stays_free(served, tmp_path):
    client, app, _ = served
    clips = [
        write_video(tmp_path / f"c{i}.mp4", frames=15 + i, fps=15, seed=i).read_bytes()
        for i in range(10)
    ]
    results: dict[int, object] = {}

    def one(i):
        try:
            results[i] = post(client, clips[i], name=f"c{i}.mp4")
        except Exception as e:  # recorded, asserted below
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    # While the pool works on the clips, the event loop still answers at once.
    t0 = time.perf_counter()
    assert client.get("/api/health").status_code == 200
    health_s = time.perf_counter() - t0
    busy_while_checked = any(t.is_alive() for t in threads)
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 10
    for i in range(10):
        r = results[i]
        assert not isinstance(r, Exception), r
        assert r.status_code == 200, r.text
        assert r.json()["video"] == f"c{i}.mp4" and "no person" in r.json()["error"]
    if busy_while_checked:
        assert health_s < 1.0, f"health took {health_s:.2f}s while clips were being processed"
    assert list(upload_dir(app).iterdir()) == []


# ---- size limit --------------------------------------------------------------------------------
def test_oversized_upload_is_413_streamed_or_declared(model_file, tmp_path):
    app = create_app(model_file, max_upload_mb=0.05, workers=1, tmp_dir=tmp_path, warm_up=False)
    limit = int(0.05 * 1024 * 1024)
    big = b"\x00" * (limit + 1)
    with TestClient(app) as client:
        # Declared: Content-Length says it is too big.
        r = post(client, big)
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        # Streamed: no Content-Length; counted while writing to disk.
        boundary = "XyZbOuNdArY"
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
                "Content-Type: video/mp4\r\n\r\n").encode()  # fmt: skip
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body():
            yield head
            for _ in range(0, 4 * limit, 8192):  # 4x the limit, in 8 KiB chunks
                yield b"\x01" * 8192
            yield tail

        r = client.post("/api/predict", content=body(),
                        headers={"content-type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
        assert r.status_code == 413
        assert app.state.server.uploads.is_dir() and list(app.state.server.uploads.iterdir()) == []
        assert app.state.server._pool is None  # refused before any pose work
        root = app.state.server.root
    assert not root.exists()  # the private folder goes with the server


# ---- the server's own failures ----------------------------------------------------------------
def test_disk_full_while_storing_is_500_and_leaves_no_file(model_file, tmp_path, monkeypatch):
    from workout_classifier.serve import uploads as serve_uploads

    real_open = open

    class FullDisk:
        """An upload file on a disk that fills up: part of the first write lands, then ENOSPC."""

        def __init__(self, path, mode):
            self.fh = real_open(path, mode)

        def write(self, data):
            self.fh.write(data[:4096])
            self.fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self):
            self.fh.close()

        @property
        def closed(self):
            return self.fh.closed

    app = create_app(model_file, max_upload_mb=1, workers=1, tmp_dir=tmp_path, warm_up=False)
    with TestClient(app) as client:
        monkeypatch.setattr(serve_uploads, "open", FullDisk, raising=False)
        r = post(client, b"\x01" * 32768)
        assert r.status_code == 500, r.text
        assert r.json()["detail"] == "could not store the upload: No space left on device"
        assert list(app.state.server.uploads.iterdir()) == []  # the partial file is gone
        # A body that is not multipart at all is still the client's error.
        mime = {"content-type": "multipart/form-data; boundary=XyZbOuNdArY"}
        r = client.post("/api/predict", content=b"not multipart\r\n" * 10, headers=mime)
        assert r.status_code == 400 and "malformed multipart body" in r.json()["detail"]
        assert list(app.state.server.uploads.iterdir()) == []
        assert app.state.server._pool is None


def _dies_mid_job(path, name, top, annotated_out=None, cache_dir=None, job_id=None):
    """Stands in for predict_job in a pool process: starts filling the job's pose
    cache (made next to the upload when none is given, as predict_job does), then
    the worker dies."""
    import tempfile

    cache_dir = cache_dir or tempfile.mkdtemp(prefix="job-", dir=str(Path(path).parent))
    (Path(cache_dir) / "half-written.npz.1234.tmp").write_bytes(b"\x00" * 100)
    os._exit(3)


def test_a_worker_killed_mid_job_leaves_no_job_folder(served, no_person_clip, monkeypatch):
    from workout_classifier.serve import workers as serve_workers

    client, app, _ = served
    monkeypatch.setattr(serve_workers, "predict_job", _dies_mid_job)
    r = post(client, no_person_clip.read_bytes(), name="dies.mp4")
    assert r.status_code == 500 and "stopped unexpectedly" in r.json()["detail"]
    assert list(upload_dir(app).iterdir()) == []  # neither the upload nor its job-* cache


# ---- annotated clips and optional answers ------------------------------------------------------------
def test_annotated_route_serves_only_its_own_files(served):
    client, app, _ = served
    assert client.get("/api/annotated/" + "0" * 32 + ".mp4").status_code == 404
    for bad in ("..%2F..%2Fetc%2Fpasswd", "../uploads/x.mp4", "abc.mp4"):
        assert client.get(f"/api/annotated/{bad}").status_code == 404
    made = app.state.server.annotated / ("ab" * 16 + ".mp4")
    made.write_bytes(b"\x00\x00\x00\x18ftypisom")
    r = client.get(f"/api/annotated/{'ab' * 16}.mp4")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    made.unlink()


def test_predict_job_asks_for_every_answer_and_annotates(model_file, tmp_path, monkeypatch):
    """The worker function, in this process, with prediction and annotation faked."""
    import workout_classifier.predict as predict_mod
    from workout_classifier.annotate import annotate_video as real_annotate_video
    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.serve import workers as serve_workers  # where the worker's globals live

    clip = write_video(tmp_path / "up" / "0123.mp4", frames=10, fps=10)
    seen = {}

    def fake_predict(videos, clf, cache_dir=None, top=3, keep_internal=False, reps=False, form=False,
                     timeline=False, **kw):  # fmt: skip
        seen.update(reps=reps, form=form, timeline=timeline, top=top)
        return [{"video": str(videos[0]), "label": "squat", "confidence": 0.9, "error": None,
                 "top": [{"label": "squat", "probability": 0.9}], "reps": 3, "_window_probs": None}]  # fmt: skip

    real_signature = inspect.signature(real_annotate_video)

    def annotate_video(*args, **kwargs):
        # Bound against the real function's signature: a call it would refuse is a
        # TypeError here too. (*args, **kwargs) so the worker cannot shape its
        # call to this fake's parameters instead of the real ones.
        call = real_signature.bind(*args, **kwargs)
        call.apply_defaults()
        a = call.arguments
        seen.update(clf=a["clf"], cache_dir=Path(a["cache_dir"]))
        seen["cache_there"] = seen["cache_dir"].is_dir()
        Path(a["out_path"]).write_bytes(b"mp4")
        return {"video": str(a["video"]), "output": str(a["out_path"]), "label": "squat"}

    monkeypatch.setattr(predict_mod, "predict_videos", fake_predict)
    monkeypatch.setattr("workout_classifier.annotate.annotate_video", annotate_video)
    monkeypatch.setattr(serve_workers, "_CLF", Classifier.load(model_file))
    out = tmp_path / "ann.mp4"
    job = serve_workers.predict_job(str(clip), "mine.mp4", 2, str(out))
    assert job["status"] == 200 and job["annotated"] and out.read_bytes() == b"mp4"
    assert job["result"]["video"] == "mine.mp4" and job["result"]["reps"] == 3
    assert "_window_probs" not in job["result"]
    assert seen["reps"] and seen["form"] and seen["timeline"] and seen["top"] == 2
    assert job["note"] is None
    assert seen["clf"] is serve_workers._CLF  # the worker's loaded model, not a second load
    # The job's pose cache, which predict_job makes and removes when not given one.
    assert seen["cache_there"] and seen["cache_dir"].name.startswith("job-")
    assert not seen["cache_dir"].exists()
    assert serve_mod.features() == {
        "reps": True,
        "form": True,
        "timeline": True,
        "annotated_video": True,
    }


# ---- model and command line --------------------------------------------------------------------------
def test_bad_model_file_fails_at_startup_with_a_message(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    with pytest.raises(ModelFileError):
        create_app(bad)
    from workout_classifier.cli import app as cli

    r = CliRunner().invoke(cli, ["serve", "--model", str(bad)])
    assert r.exit_code == 1 and "not a workout-classifier model file" in r.stderr
    assert "Traceback" not in r.output


def test_serve_command_binds_to_localhost_by_default(monkeypatch):
    calls = []
    monkeypatch.setattr(serve_mod, "run", lambda *a, **kw: calls.append((a, kw)))
    from workout_classifier.cli import app as cli

    r = CliRunner().invoke(cli, ["serve"])
    assert r.exit_code == 0, r.output
    ((args, kw),) = calls
    assert args[:2] == ("127.0.0.1", 8000) and kw == {"max_upload_mb": 200.0, "workers": 2}
    r = CliRunner().invoke(
        cli, ["serve", "--host", "0.0.0.0", "--port", "9000", "--max-upload-mb", "5"]
    )
    assert calls[-1][0][:2] == ("0.0.0.0", 9000) and calls[-1][1]["max_upload_mb"] == 5.0


def test_a_crashed_worker_is_replaced_and_the_server_goes_on(served, no_person_clip):
    from concurrent.futures.process import BrokenProcessPool

    client, app, _ = served
    with pytest.raises(BrokenProcessPool):
        client.portal.call(app.state.server.run, os._exit, 3)  # a worker dies mid-job
    r = post(client, no_person_clip.read_bytes(), name="after.mp4")
    assert r.status_code == 200 and "no person" in r.json()["error"]
