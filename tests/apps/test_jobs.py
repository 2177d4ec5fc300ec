"""The job API of `workout serve` (/api/jobs) through FastAPI's TestClient: a real clip end to end
(states, progress that never falls, the same answer as /api/predict), the event stream, the
downloads, a worker that dies mid-job, a client that disconnects mid-upload, the queue limit
and the sweep. Uses the app and model fixtures of test_serve.
"""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
import test_serve
from conftest import real_clip
from test_serve import REAL_CLIP, _dies_mid_job

from workout_classifier.serve.export import answer_csv
from workout_classifier.serve.jobs import JobStore

# test_serve's fixtures: its app (two workers, a 1 MB limit), its model and its clip with no person.
model_file, served, no_person_clip = (
    test_serve.model_file,
    test_serve.served,
    test_serve.no_person_clip,
)


def start_job(client, data: bytes, name: str = "clip.mp4", **params):
    return client.post("/api/jobs", files={"file": (name, data, "video/mp4")}, params=params)


def wait_done(client, job_id: str, timeout_s: float = 120) -> list[dict]:
    """Poll the job until it ends; every view seen, in order."""
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = client.get(f"/api/jobs/{job_id}").json()
        seen.append(view)
        if view["state"] in ("done", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end in {timeout_s} s: {seen[-1]}")


def events(client, job_id: str) -> list[dict]:
    with client.stream("GET", f"/api/jobs/{job_id}/events") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data:")]


def uploads_left(app) -> list:
    return list(app.state.server.uploads.iterdir())


@pytest.mark.slow
def test_a_real_clip_through_the_job_api_answers_like_predict(served, real_clips):
    client, app, _ = served
    clip = real_clip(real_clips, REAL_CLIP)
    r = start_job(client, clip.read_bytes(), name=clip.name)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.headers["location"] == f"/api/jobs/{job_id}"
    assert r.json()["state"] in ("queued", "running") and r.json()["result"] is None

    polled = wait_done(client, job_id)
    streamed = events(client, job_id)  # a finished job's stream: its last state, then the end
    final = polled[-1]
    assert final["state"] == "done" and final["progress"] == 1.0 and final["error"] is None
    assert streamed[-1] == client.get(f"/api/jobs/{job_id}").json()
    states = [v["state"] for v in polled]
    order = ["queued", "running", "done"]
    assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)
    progress = [v["progress"] for v in polled]
    assert progress == sorted(progress) and all(0 <= p <= 1 for p in progress)
    assert all(v["result"] is None for v in polled[:-1])

    sync = client.post("/api/predict", files={"file": (clip.name, clip.read_bytes(), "video/mp4")})
    assert sync.status_code == 200
    assert final["result"] == sync.json()  # the same pipeline, the same answer
    assert final["result"]["video"] == clip.name

    got = client.get(f"/api/jobs/{job_id}/result.json")
    assert got.json() == final["result"]
    assert got.headers["content-disposition"] == 'attachment; filename="squat_16.json"'
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/jobs/{job_id}/result.csv").text)))
    assert rows[0]["kind"] == "clip" and rows[0]["label"] == final["result"]["label"]
    assert sum(r["kind"] == "segment" for r in rows) == len(final["result"]["timeline"])
    assert uploads_left(app) == []


def test_the_event_stream_follows_a_job_to_its_end(served, no_person_clip):
    client, app, _ = served
    job_id = start_job(client, no_person_clip.read_bytes(), name="ball.mp4").json()["id"]
    seen = events(client, job_id)  # opened at once: follows the job while it runs
    assert seen[-1]["state"] == "done" and "no person" in seen[-1]["result"]["error"]
    progress = [v["progress"] for v in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert client.get(f"/api/jobs/{'0' * 32}").status_code == 404
    assert client.get(f"/api/jobs/{'0' * 32}/events").status_code == 404


def test_a_bad_file_fails_its_job_with_the_reason(served):
    client, app, _ = served
    job_id = start_job(client, b"not a video\n" * 40, name="notes.mp4").json()["id"]
    final = wait_done(client, job_id)[-1]
    assert final["state"] == "failed" and final["status"] == 415 and final["error"]
    assert final["result"] is None
    assert client.get(f"/api/jobs/{job_id}/result.json").status_code == 409
    assert uploads_left(app) == []


def test_a_worker_that_dies_fails_its_job_and_the_server_goes_on(
    served, no_person_clip, monkeypatch
):
    from workout_classifier.serve import workers as serve_workers

    client, app, _ = served
    monkeypatch.setattr(serve_workers, "predict_job", _dies_mid_job)
    job_id = start_job(client, no_person_clip.read_bytes(), name="dies.mp4").json()["id"]
    final = wait_done(client, job_id)[-1]
    assert final["state"] == "failed" and final["status"] == 500
    assert "stopped unexpectedly" in final["error"]
    assert uploads_left(app) == []  # neither the upload nor its job-* cache
    monkeypatch.undo()
    job_id = start_job(client, no_person_clip.read_bytes(), name="after.mp4").json()["id"]
    assert wait_done(client, job_id)[-1]["state"] == "done"


def test_a_client_that_disconnects_mid_upload_leaves_nothing(served):
    """Half a multipart body, then the connection goes: no job, no file, the slot given back."""
    client, app, _ = served
    boundary = "xyz"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n").encode() + b"\0" * 5000  # fmt: skip
    messages = [
        {"type": "http.request", "body": head, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(msg):
        sent.append(msg)

    scope = {"type": "http", "method": "POST", "path": "/api/jobs", "raw_path": b"/api/jobs",
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "app": app,
             "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                         (b"content-length", b"100000")]}  # fmt: skip
    before = len(app.state.jobs.jobs)
    client.portal.call(app, scope, receive, send)
    assert sent[0]["status"] == 400
    assert uploads_left(app) == [] and app.state.server.pending == 0
    assert len(app.state.jobs.jobs) == before


def test_a_full_queue_is_503_with_retry_after(served, no_person_clip):
    client, app, _ = served
    state = app.state.server
    state.pending = state.max_pending  # as if that many clips were waiting
    try:
        r = start_job(client, no_person_clip.read_bytes())
        assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
    finally:
        state.pending = 0
    assert uploads_left(app) == []


def test_finished_jobs_are_swept_and_progress_never_falls():
    store = JobStore(ttl_s=0.05, max_jobs=3)
    job = store.create("a.mp4")
    store.on_message(("progress", job.id, "pose", 0.5))
    store.on_message(("progress", job.id, "pose", 0.2))  # a late message: ignored, never falls
    assert job.state == "running" and job.progress == 0.5
    store.on_message(("progress", job.id, "pose", 1.0))
    assert job.progress == 0.99  # 1 only with the answer
    store.finish(job, {"status": 200, "result": {"video": "a.mp4"}})
    assert job.view()["progress"] == 1.0 and job.view()["state"] == "done"
    store.on_message(("progress", job.id, "pose", 0.3))
    assert job.progress == 1.0
    running = store.create("b.mp4")
    time.sleep(0.1)
    assert [j.id for j in store.sweep()] == [job.id]
    assert store.get(job.id) is None and store.get(running.id) is running  # running jobs stay


def test_the_csv_has_a_row_per_clip_segment_rep_and_form():
    answer = {"video": "s.mp4", "label": "push up", "confidence": 0.9, "duration": 20.0, "reps": 2,
              "timeline": [{"start": 0, "end": 20.0, "label": "push up", "confidence": 0.9, "reps": 2}],
              "rep_details": [{"rep": 1, "start": 1.0, "turn": 2.0, "end": 3.5, "down_s": 1.0, "up_s": 1.5,
                               "range": 0.4, "cues": ["rep 1: go lower"]},
                              {"rep": 2, "start": 4.0, "turn": 5.0, "end": 6.0, "down_s": 1.0, "up_s": 1.0,
                               "range": 0.5, "cues": []}],
              "form": "wrong", "form_confidence": 0.8, "form_cues": ["=HYPERLINK(x)"]}  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(answer_csv(answer))))
    assert [r["kind"] for r in rows] == ["clip", "segment", "rep", "rep", "form"]
    assert rows[2]["duration_s"] == "2.5" and rows[2]["cues"] == "rep 1: go lower"
    assert rows[4]["cues"] == "'=HYPERLINK(x)"  # never run as a formula by a spreadsheet
