"""The web API's set-up, each test with an app of its own or none: the upload
limit (413, refused before the worker pool starts), a full disk while storing,
the worker function with prediction and annotation faked, a bad model at
start-up and the `serve` command. The shared app, fixtures and helpers are in
test_serve.py.
"""

from __future__ import annotations

import errno
import inspect
import os
from pathlib import Path

import pytest
import test_serve
from conftest import write_video
from fastapi.testclient import TestClient
from test_serve import post
from typer.testing import CliRunner

from workout_classifier import serve as serve_mod
from workout_classifier.learn.checkpoint import ModelFileError
from workout_classifier.serve import create_app

# test_serve's model (the shipped one, or a tiny one trained once per session).
model_file = test_serve.model_file


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


# ---- a full disk --------------------------------------------------------------------------------
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


# ---- the worker function --------------------------------------------------------------------------
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
