"""Camera mode of `workout serve`: the page's camera frames over a WebSocket, one tracker per socket.

``WS /api/live``: the page sends binary messages, each a 12-byte header
(uint32 frame id, float64 capture time in seconds, little-endian) and one
JPEG frame; it sends a frame when the previous answer came back, so frames wait
nowhere. The server answers each processed frame with JSON ``{"type": "frame",
id, time, label, confidence, reps, set, set_label, top, form_cues, landmarks
([[x, y, visibility]] or null), server_ms}``; should frames still pile up, only
the newest is processed and the others are counted as ``dropped``. The text
message ``{"type": "stop"}`` answers ``{"type": "summary", ...}`` (the
`LiveTracker` summary) and closes. The text message ``{"type": "view", "region":
[x0, y0, x1, y1]}`` (shares of the camera picture, or null for all of it; anything else is
answered ``{"type": "warning", message}`` and read as all of it) says
that the frames after it are that part of the picture: the page zooms on a
person small in the frame by sending a crop of the full-resolution camera frame
(web/camzoom.js); landmarks still come back in whole-picture coordinates. At most `max_sessions` sockets at once; one
more is told so and closed (1013, try again later).

Each session has its own worker process (spawned, holding one `LiveTracker`,
so its MediaPipe tracking state is its own and a crash ends one session only).
When a socket closes its worker is reset and kept for the next session (at
most `keep_idle` idle ones), or stopped. A worker keeps a spare tracker with its
pose models started, so a session's first frames do not wait a second or two
for MediaPipe to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import struct
import threading
import time

from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

HEADER = struct.Struct("<Id")  # frame id, capture time (s)


# ---- worker side -------------------------------------------------------------------------------
def _worker_main(conn, model_path: str | None) -> None:
    from workout_classifier._quiet import silence_stderr_forever

    silence_stderr_forever()
    import cv2
    import numpy as np

    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.live.tracker import LiveTracker

    def warm() -> LiveTracker:
        spare = LiveTracker(clf)
        spare.warm_up()  # its pose models started: the next session's first frames are not kept waiting
        return spare

    clf = Classifier.load(model_path)
    tracker, spare = None, warm()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        kind = msg[0]
        if kind == "start":
            if tracker is not None:
                tracker.close()
            tracker, spare = spare or warm(), None
            conn.send(("ready", clf.classes))
        elif kind == "frame":
            _, fid, t, jpeg, view = msg
            t0 = time.perf_counter()
            bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            if bgr is None or tracker is None:
                conn.send(("error", fid, "the frame is not a JPEG image"))
                continue
            state = tracker.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t, view)
            lm = state.pop("landmarks")
            state["landmarks"] = None if lm is None else np.round(lm[:, [0, 1, 3]], 4).tolist()
            state["server_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            conn.send(("frame", fid, state))
        elif kind == "summary":
            conn.send(("summary", tracker.summary() if tracker is not None else {}))
        elif kind == "reset":
            if tracker is not None:
                tracker.close()
            tracker = None
            conn.send(("reset",))
            spare = (
                spare or warm()
            )  # a fresh tracking state for the next session, started while idle
        else:  # "stop"
            return


class LiveWorker:
    """One spawned process and its pipe; `call` sends a message and waits for the answer."""

    def __init__(self, model_path: str | None):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, model_path), daemon=True)
        self.proc.start()
        child.close()
        self.lock = threading.Lock()  # one call at a time (a reset waits for a frame in work)

    def call(self, msg: tuple, timeout: float = 120.0):
        with self.lock:
            self.conn.send(msg)
            if not self.conn.poll(timeout):
                raise TimeoutError("the camera worker did not answer")
            return self.conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(("stop",))
        self.proc.join(timeout=3)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=3)
        self.conn.close()


class Busy(Exception):
    pass


class LiveWorkers:
    """The camera sessions' workers: at most `max_sessions` in use, `keep_idle` kept warm."""

    def __init__(self, model_path: str | None, max_sessions: int = 4, keep_idle: int = 1):
        self.model_path, self.max_sessions, self.keep_idle = model_path, max_sessions, keep_idle
        self.active: set[LiveWorker] = set()
        self.idle: list[LiveWorker] = []
        self._lock = threading.Lock()

    def acquire(self) -> LiveWorker:
        with self._lock:
            if len(self.active) >= self.max_sessions:
                raise Busy(
                    f"{self.max_sessions} camera sessions are running already; try again in a minute"
                )
            while self.idle:
                w = self.idle.pop()
                if w.proc.is_alive():
                    break
                w.stop()
            else:
                w = LiveWorker(self.model_path)
            self.active.add(w)
            return w

    def release(self, w: LiveWorker) -> None:
        """The socket closed: reset the worker's session and keep it warm, or stop it."""
        ok = False
        with contextlib.suppress(Exception):
            ok = w.proc.is_alive() and w.call(("reset",), timeout=30) == ("reset",)
        with self._lock:
            self.active.discard(w)
            if ok and len(self.idle) < self.keep_idle:
                self.idle.append(w)
                return
        w.stop()

    def close(self) -> None:
        with self._lock:
            workers, self.active, self.idle = [*self.active, *self.idle], set(), []
        for w in workers:
            w.stop()


def parse_view(region) -> tuple[float, float, float, float] | None:
    """A "view" message's region: four shares of the picture, x0 < x1 and y0 < y1 within [0, 1]
    (anything else: the whole picture)."""
    try:
        x0, y0, x1, y1 = (float(v) for v in region)
    except (TypeError, ValueError):
        return None
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        return None
    return x0, y0, x1, y1


# ---- the socket ------------------------------------------------------------------------------------
async def _session(ws: WebSocket, pool: LiveWorkers) -> None:
    loop = asyncio.get_running_loop()
    await ws.accept()
    try:
        worker = await loop.run_in_executor(None, pool.acquire)
    except Busy as e:
        await ws.send_json({"type": "error", "message": str(e)})
        await ws.close(code=1013)
        return
    latest: dict = {"frame": None, "stop": False, "dropped": 0, "view": None}
    wake = asyncio.Event()

    async def receive():
        while True:
            m = await ws.receive()
            if m["type"] == "websocket.disconnect":
                latest["stop"] = "gone"
            elif m.get("bytes") is not None:
                data = m["bytes"]
                if len(data) > HEADER.size:
                    fid, t = HEADER.unpack_from(data)
                    if latest["frame"] is not None:
                        latest["dropped"] += 1  # a newer frame came before this one was taken
                    latest["frame"] = (fid, t, data[HEADER.size :], latest["view"])
            elif m.get("text"):
                with contextlib.suppress(ValueError, AttributeError):
                    text = json.loads(m["text"])
                    if text.get("type") == "stop":
                        latest["stop"] = "stop"
                    elif text.get("type") == "view":
                        region = text.get("region")
                        latest["view"] = parse_view(region)
                        if region is not None and latest["view"] is None:
                            latest["warning"] = (
                                f"view region {str(region)[:80]} is not four shares x0 < x1, y0 < y1 "
                                "within [0, 1]; the frames are read as the whole picture"
                            )
            wake.set()
            if latest["stop"]:
                return

    receiver = asyncio.create_task(receive())
    try:
        kind, classes = await loop.run_in_executor(None, worker.call, ("start",))
        await ws.send_json({"type": "ready", "classes": classes})
        while True:
            await wake.wait()
            wake.clear()
            if latest["stop"]:
                break
            if latest.get("warning"):  # sent from here only: one task writes to the socket
                await ws.send_json({"type": "warning", "message": latest.pop("warning")})
            frame, latest["frame"] = latest["frame"], None
            if frame is None:
                continue
            got = await loop.run_in_executor(None, worker.call, ("frame", *frame))
            if got[0] == "frame":
                await ws.send_json(
                    {"type": "frame", "id": got[1], "dropped": latest["dropped"], **got[2]}
                )
            else:
                await ws.send_json({"type": "error", "id": got[1], "message": got[2]})
        if latest["stop"] == "stop":
            _, summary = await loop.run_in_executor(None, worker.call, ("summary",))
            summary["frames_dropped_server"] = latest["dropped"]
            await ws.send_json({"type": "summary", **summary})
            await ws.close()
    except (WebSocketDisconnect, RuntimeError):
        pass  # the page went away mid-answer
    finally:
        receiver.cancel()
        # Shielded: when the server cancels this handler (a client gone, shutdown), a release job
        # not yet started would be cancelled with it and the worker would stay "active" for good.
        await asyncio.shield(loop.run_in_executor(None, pool.release, worker))
        if ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await ws.close()


def add_camera_routes(app: FastAPI, pool: LiveWorkers) -> None:
    """Register ``WS /api/live`` on `app`, its sessions served by `pool`."""

    @app.websocket("/api/live")
    async def live_socket(ws: WebSocket):
        await _session(ws, pool)
