"""A long clip through the job API (issue 26): cancelled while queued or running (DELETE
/api/jobs/{id}: the worker stops at once and goes on to the next clip, nothing is left behind), and
the timeline so far in the job's view and events while the pose is found. The clip is a session of
real clips of three exercises joined end to end, made in a temporary folder.
"""

from __future__ import annotations

import time

import cv2
import pytest
from conftest import real_clip
from test_jobs import events, start_job, uploads_left, wait_done
from test_serve import model_for_tests, no_person_clip  # noqa: F401 (a fixture)

from workout_classifier.serve import create_app
from workout_classifier.serve.workers import CANCELLED

pytestmark = pytest.mark.slow

SESSION = ["squat/squat_16.mp4", "push up/pushfit-correct50.mp4", "lunges/v_Lunges_g20_c04.mp4"]


@pytest.fixture(scope="module")
def session(real_clips, tmp_path_factory):
    """The three clips, each played until 12 s, at 320x240 and 30 fps (about 36 s)."""
    out = tmp_path_factory.mktemp("session") / "session.mp4"
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (320, 240))
    for rel in SESSION:
        clip, frames = real_clip(real_clips, rel), 0
        while frames < 12 * 30:
            cap = cv2.VideoCapture(str(clip))
            while frames < 12 * 30 and (got := cap.read())[0]:
                vw.write(cv2.resize(got[1], (320, 240)))
                frames += 1
            cap.release()
    vw.release()
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from fastapi.testclient import TestClient

    root = tmp_path_factory.mktemp("serve-long")
    app = create_app(model_for_tests(root), max_upload_mb=50, workers=2, tmp_dir=root)
    with TestClient(app) as client:
        yield client, app


def wait_for(client, job_id: str, ok, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = client.get(f"/api/jobs/{job_id}").json()
        if ok(view):
            return view
        time.sleep(0.05)
    raise AssertionError(f"job {job_id}: still {view} after {timeout_s} s")


def all_clear(app, timeout_s: float = 20) -> None:
    """No upload, job folder or annotated clip left, and every queue slot given back."""
    deadline, state = time.monotonic() + timeout_s, app.state.server
    while time.monotonic() < deadline:
        if not uploads_left(app) and not list(state.annotated.iterdir()) and state.pending == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"left behind: {uploads_left(app)}, {list(state.annotated.iterdir())}, "
                         f"{state.pending} pending")  # fmt: skip


def test_a_running_job_is_cancelled_and_its_worker_goes_on(served, session, no_person_clip):  # noqa: F811
    client, app = served
    job_id = start_job(client, session.read_bytes(), name="session.mp4", annotate="true").json()[
        "id"
    ]
    running = wait_for(client, job_id, lambda v: v["stage"] == "pose" and v["progress"] > 0.03)
    assert running["state"] == "running"
    r = client.delete(f"/api/jobs/{job_id}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    # The worker stopped at its next progress report (it had most of the clip's pose to go).
    t0 = time.monotonic()
    stopped = wait_for(client, job_id, lambda v: v["status"] is not None, timeout_s=30)
    assert stopped["status"] == CANCELLED and stopped["state"] == "cancelled"
    assert time.monotonic() - t0 < 10
    assert (
        stopped["result"] is None
        and client.get(f"/api/jobs/{job_id}/result.json").status_code == 409
    )
    all_clear(app)
    # Both workers are free for the next clips.
    after = [start_job(client, no_person_clip.read_bytes()).json()["id"] for _ in range(2)]
    assert [wait_done(client, j, timeout_s=60)[-1]["state"] for j in after] == ["done", "done"]


def test_queued_jobs_are_cancelled_before_or_as_a_worker_takes_them(served, session):
    client, app = served
    ids = [start_job(client, session.read_bytes(), name=f"s{i}.mp4").json()["id"] for i in range(6)]
    for j in ids[:2]:  # two workers: the first two run, the others wait
        wait_for(client, j, lambda v: v["state"] == "running")
    assert [client.get(f"/api/jobs/{j}").json()["state"] for j in ids[2:]] == ["queued"] * 4
    for j in reversed(ids):
        assert client.delete(f"/api/jobs/{j}").json()["state"] == "cancelled"
    all_clear(app)
    views = [client.get(f"/api/jobs/{j}").json() for j in ids]
    assert all(v["state"] == "cancelled" and v["result"] is None for v in views)
    assert [v["status"] for v in views[:2]] == [CANCELLED, CANCELLED]  # stopped mid-work
    # The pool hands a worker one more clip than it has workers: those stop as they start; the
    # last ones never reached a worker at all.
    assert all(v["status"] in (CANCELLED, None) for v in views[2:]) and views[-1]["status"] is None


def test_a_finished_job_is_forgotten_and_unknown_ones_are_404(served, no_person_clip):  # noqa: F811
    client, app = served
    job_id = start_job(client, no_person_clip.read_bytes()).json()["id"]
    assert wait_done(client, job_id)[-1]["state"] == "done"
    assert client.delete(f"/api/jobs/{job_id}").status_code == 204
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.delete(f"/api/jobs/{job_id}").status_code == 404


def test_the_timeline_so_far_shows_while_the_pose_is_found(served, session):
    client, app = served
    job_id = start_job(client, session.read_bytes(), name="session.mp4").json()["id"]
    seen = events(client, job_id)  # opened at once: every change until the end
    final = seen[-1]
    assert final["state"] == "done" and final["timeline_so_far"] is None
    timeline, duration = final["result"]["timeline"], final["result"]["duration"]
    early = [v for v in seen if v["state"] == "running" and v["timeline_so_far"]]
    assert early, "no timeline before the end"
    assert all(v["result"] is None for v in early)
    untils = [v["timeline_so_far"]["until"] for v in early]
    assert untils == sorted(untils) and untils[-1] < duration
    first = early[0]["timeline_so_far"]
    assert first["segments"][-1]["end"] <= first["until"] + 0.5
    assert set(first["segments"][0]) >= {"start", "end", "label", "confidence", "reps"}
    # The same stages as the finished clip's: the start of the clip is named alike.
    assert first["segments"][0]["label"] == timeline[0]["label"]
    assert early[0]["progress"] < 0.95  # before the pose of the whole clip was done
