"""Camera mode of the server: WS /api/live with JPEG frames, one tracker per socket, workers freed on close."""

from __future__ import annotations

import struct
import time

import cv2
import numpy as np
import pytest
from conftest import real_clip, small_copy
from fastapi.testclient import TestClient
from test_live import REAL_LIVE_CLIP
from test_serve import model_for_tests

from workout_classifier.serve import create_app
from workout_classifier.serve.camera import parse_view

pytestmark = pytest.mark.slow


def jpeg_frames(clip, limit=None, fps=15.0):
    cap = cv2.VideoCapture(str(clip))
    src = cap.get(cv2.CAP_PROP_FPS) or 30.0
    i, out = 0, []
    while True:
        ok, bgr = cap.read()
        if not ok or (limit and len(out) >= limit):
            break
        if i % max(round(src / fps), 1) == 0:
            out.append(
                (
                    i / src,
                    cv2.imencode(
                        ".jpg", cv2.resize(bgr, (480, 270)) if bgr.shape[1] > 480 else bgr
                    )[1].tobytes(),
                )
            )
        i += 1
    return out


def send(ws, fid, t, jpeg):
    ws.send_bytes(struct.pack("<Id", fid, t) + jpeg)
    return ws.receive_json()


def test_two_sessions_each_with_their_own_state(real_clips, tmp_path):
    frames = jpeg_frames(real_clip(real_clips, REAL_LIVE_CLIP))
    app = create_app(model_for_tests(tmp_path), workers=1, tmp_dir=tmp_path, warm_up=False)
    with TestClient(app) as client:
        pool = app.state.camera
        with client.websocket_connect("/api/live") as a, client.websocket_connect("/api/live") as b:
            assert a.receive_json()["type"] == "ready" and b.receive_json()["type"] == "ready"
            assert len(pool.active) == 2
            blank = cv2.imencode(".jpg", np.zeros((270, 480, 3), np.uint8))[1].tobytes()
            got_a, got_b = [], []
            for i, (t, jpeg) in enumerate(frames):
                got_a.append(send(a, i, t, jpeg))
                if i < 40:  # b sees only an empty picture
                    got_b.append(send(b, i, t, blank))
            assert got_a[-1]["type"] == "frame" and got_a[-1]["id"] == len(frames) - 1
            assert got_a[-1]["label"] == "push up" and got_a[-1]["landmarks"] is not None
            reps = [g["reps"] for g in got_a]
            assert reps == sorted(reps) and reps[-1] >= 3  # offline: 4
            assert all(g["label"] is None and g["reps"] == 0 for g in got_b)  # its own tracker
            a.send_text('{"type": "stop"}')
            summary = a.receive_json()
            assert summary["type"] == "summary" and summary["sets"][0]["label"] == "push up"
            assert abs(summary["sets"][0]["reps"] - 4) <= 1
            b.send_bytes(b"\0" * 20)  # not a JPEG: an error for that frame, the session goes on
            assert b.receive_json()["type"] == "error"
        # Both sockets closed: no session holds a worker; one is kept warm for the next.
        deadline = time.monotonic() + 30
        while pool.active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pool.active and len(pool.idle) == 1
        with client.websocket_connect("/api/live") as c:
            assert c.receive_json()["type"] == "ready" and len(pool.active) == 1 and not pool.idle


def test_more_sessions_than_allowed_are_told_so(tmp_path):
    app = create_app(
        model_for_tests(tmp_path), workers=1, tmp_dir=tmp_path, warm_up=False, camera_sessions=1
    )
    with TestClient(app) as client:
        with client.websocket_connect("/api/live") as a:
            assert a.receive_json()["type"] == "ready"
            with client.websocket_connect("/api/live") as b:
                msg = b.receive_json()
                assert msg["type"] == "error" and "camera sessions" in msg["message"]


def test_a_view_message_says_which_part_of_the_picture_the_frames_are(real_clips, tmp_path):
    """The page's zoom (web/camzoom.js): after {"type": "view"} the frames are a crop of the camera
    picture, and the landmarks come back in whole-picture coordinates."""
    far = small_copy(real_clip(real_clips, "squat/squat_11.mp4"), tmp_path / "far.mp4", 0.2)
    cap = cv2.VideoCapture(str(far))
    x0, y0, x1, y1 = (
        880,
        420,
        1180,
        720,
    )  # around the lifter, pasted near the lower right (small_copy)
    crops = []
    while len(crops) < 20:
        ok, bgr = cap.read()
        if not ok:
            break
        crop = cv2.resize(bgr[y0:y1, x0:x1], (320, 320), interpolation=cv2.INTER_LINEAR)
        crops.append(cv2.imencode(".jpg", crop)[1].tobytes())
    app = create_app(model_for_tests(tmp_path), workers=1, tmp_dir=tmp_path, warm_up=False)
    with TestClient(app) as client, client.websocket_connect("/api/live") as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_json({"type": "view", "region": [x0 / 1280, y0 / 720, x1 / 1280, y1 / 720]})
        got = [send(ws, i, i / 10, jpeg) for i, jpeg in enumerate(crops)]
    found = [np.array(g["landmarks"]) for g in got if g["landmarks"] is not None]
    assert len(found) >= 0.8 * len(got), f"found on {len(found)} of {len(got)} crops"
    hips = np.median([lm[[23, 24], :2].mean(0) for lm in found], axis=0)
    assert x0 / 1280 < hips[0] < x1 / 1280 and y0 / 720 < hips[1] < 1, (
        hips
    )  # mapped back, not crop shares


def test_a_view_region_is_four_shares_in_order_or_the_whole_picture():
    assert parse_view([0.5, 0.25, 1, 1.0]) == (0.5, 0.25, 1.0, 1.0)
    for bad in (
        None,
        "x",
        [0.5, 0.5, 1],
        [0.6, 0, 0.5, 1],
        [0, 0, 1.2, 1],
        [-0.1, 0, 1, 1],
        [0, 0, "a", 1],
    ):
        assert parse_view(bad) is None, bad


def test_a_malformed_view_is_said_and_the_whole_picture_used(tmp_path):
    black = cv2.imencode(".jpg", np.zeros((240, 320, 3), np.uint8))[1].tobytes()
    app = create_app(model_for_tests(tmp_path), workers=1, tmp_dir=tmp_path, warm_up=False)
    with TestClient(app) as client, client.websocket_connect("/api/live") as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_json({"type": "view", "region": [0.6, 0, 0.5, 1]})
        warning = ws.receive_json()
        assert warning["type"] == "warning" and "whole picture" in warning["message"]
        assert "\n" not in warning["message"]
        got = send(ws, 1, 0.0, black)  # the session goes on
        assert got["type"] == "frame" and got["id"] == 1 and got["landmarks"] is None
        ws.send_json({"type": "view", "region": None})  # null: the whole picture, nothing to say
        assert send(ws, 2, 0.1, black)["type"] == "frame"
