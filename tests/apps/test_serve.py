"""The web API (`workout serve`) through FastAPI's TestClient.

One app (two worker processes, started once) serves most tests: a real clip
(skipped without ../shared), a generated clip with no person, files that are not
video, hostile file names and ten uploads at once. The model is the
shipped one where it exists, else a tiny one trained here on synthetic
landmarks in a few seconds (its answers are arbitrary; these tests check the
plumbing, not accuracy). The tests that build their own app, or need none (the
upload limit, a full disk, the worker function, start-up and the command line),
are in test_serve_setup.py; the fixtures and helpers here serve both.
"""

from __future__ import annotations

import os
import re
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import real_clip, write_video
from fastapi.testclient import TestClient

from workout_classifier.learn.checkpoint import DEFAULT_MODEL
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


# ---- the server's own failures ----------------------------------------------------------------
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


# ---- annotated clips; last, a crashed worker (it kills one of the app's) -------------------------
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


def test_a_crashed_worker_is_replaced_and_the_server_goes_on(served, no_person_clip):
    from concurrent.futures.process import BrokenProcessPool

    client, app, _ = served
    with pytest.raises(BrokenProcessPool):
        client.portal.call(app.state.server.run, os._exit, 3)  # a worker dies mid-job
    r = post(client, no_person_clip.read_bytes(), name="after.mp4")
    assert r.status_code == 200 and "no person" in r.json()["error"]
