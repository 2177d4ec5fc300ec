"""Live sources for `workout live`: a webcam index, an RTSP/HTTP stream or a file played in real time.

A reader thread decodes the source and leaves only the newest frame in a
`LatestFrame` slot; the processing loop takes whatever is newest when it is
free, so a slow machine drops stale frames (counted) instead of queueing them.
A file is paced at its own frame rate (its frames become available when they
would be shown), frames already late being skipped without converting them.
`run_live` is the loop: source -> `LiveTracker` -> callback (JSON line, window,
status line); it returns the summary with frames processed and dropped and the
capture-to-output latency percentiles.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from workout_classifier._quiet import silenced_stderr
from workout_classifier.frames.video import VideoError, probe
from workout_classifier.live.tracker import LiveConfig, LiveTracker, percentile


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    t: float  # seconds: the file's timestamp, or since the camera started
    captured: float  # time.perf_counter() when it became available


class LatestFrame:
    """A one-frame slot: `put` replaces an untaken frame (a drop), `take` waits for a new one."""

    def __init__(self):
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self.closed = False
        self.produced = 0
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.produced += 1
            self._cond.notify()

    def skip(self) -> None:
        """A frame the reader itself left out (already late): produced and dropped."""
        with self._cond:
            self.produced += 1
            self.dropped += 1

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def take(self, timeout: float = 0.5) -> Frame | None:
        """The newest frame; None at the end of the source (or after `timeout` with nothing new)."""
        with self._cond:
            if self._frame is None and not self.closed:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            return frame


def open_source(source: str) -> tuple[cv2.VideoCapture, bool]:
    """(capture, is_file). `source`: a camera index ("0"), a URL, or a video file."""
    if source.isdigit():
        # OpenCV's camera backends (V4L2, obsensor) print their own lines to fd 2 when there is no
        # camera; the user gets ours below instead.
        with silenced_stderr():
            cap = cv2.VideoCapture(int(source))
        if not cap.isOpened():
            raise VideoError(
                f"camera {source} cannot be opened (none attached, or in use by another program)"
            )
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's own queue: keep it short
        return cap, False
    if "://" in source:
        with silenced_stderr():
            cap = cv2.VideoCapture(source)
        if not cap.isOpened():
            raise VideoError(f"stream {source} cannot be opened (wrong address, or not reachable)")
        return cap, False
    probe(Path(source))  # one clear line for a missing, empty or broken file
    return cv2.VideoCapture(str(source)), True


class Reader(threading.Thread):
    """Decodes a source into a `LatestFrame`; a file is paced at its own rate (`realtime`)."""

    def __init__(
        self, cap: cv2.VideoCapture, is_file: bool, slot: LatestFrame, realtime: bool = True
    ):
        super().__init__(daemon=True, name="live-reader")
        self.cap, self.is_file, self.slot, self.realtime = cap, is_file, slot, realtime
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0)
        self.fps = fps if 0 < fps < 1000 else 30.0
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        try:
            self._run()
        except Exception as e:  # a decoder failing mid-stream ends the stream, with the reason
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.cap.release()
            self.slot.close()

    def _run(self) -> None:
        start = time.perf_counter()
        index = 0
        while not self.stop.is_set():
            if self.is_file:
                due = start + index / self.fps
                now = time.perf_counter()
                if (
                    self.realtime and now > due + 1.5 / self.fps
                ):  # late already: skip without converting
                    if not self.cap.grab():
                        return
                    self.slot.skip()
                    index += 1
                    continue
                ok, bgr = self.cap.read()
                if not ok:
                    return
                if self.realtime and due > time.perf_counter():
                    time.sleep(due - time.perf_counter())
                t = index / self.fps
            else:
                ok, bgr = self.cap.read()
                if not ok:
                    self.error = self.error or "the camera or stream stopped sending frames"
                    return
                t = time.perf_counter() - start
            index += 1
            frame = Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t, time.perf_counter())
            if self.realtime or not self.is_file:
                self.slot.put(frame)
            else:  # as fast as possible, every frame: wait until the loop took the previous one
                while self.slot._frame is not None and not self.stop.is_set():
                    time.sleep(0.001)
                self.slot.put(frame)


def has_display() -> bool:
    """Whether an OpenCV window can be shown (a desktop session; not over ssh or in CI)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    return (
        "GUI:" in cv2.getBuildInformation()
        and "NONE" not in cv2.getBuildInformation().split("GUI:")[1][:40]
    )


def run_live(source: str, tracker: LiveTracker, on_update=None, realtime: bool = True,
             stop: threading.Event | None = None) -> dict:  # fmt: skip
    """Run `tracker` on `source` until it ends, `stop` is set or Ctrl-C; return the summary.

    `on_update(state, frame)` is called after each processed frame (print, draw);
    the latency of a frame runs from its capture to the end of that call.
    Raises VideoError when the source cannot be opened.
    """
    cap, is_file = open_source(source)
    tracker.warm_up()  # before the first frame: a file's first second would be dropped while it starts
    slot = LatestFrame()
    reader = Reader(cap, is_file, slot, realtime=realtime)
    reader.start()
    latency: list[float] = []
    t_start = time.perf_counter()
    interrupted = False
    quiet = silenced_stderr()
    quiet.__enter__()  # TFLite logs on its first inference, from the pose graph's own thread
    try:
        while not (stop is not None and stop.is_set()):
            frame = slot.take()
            if frame is None:
                if slot.closed:
                    break
                continue
            state = tracker.process(frame.image, frame.t)
            state["latency_ms"] = round((time.perf_counter() - frame.captured) * 1000, 1)
            if on_update is not None:
                on_update(state, frame)
            latency.append((time.perf_counter() - frame.captured) * 1000)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        quiet.__exit__(None, None, None)
        reader.stop.set()
        reader.join(timeout=5)
    wall = time.perf_counter() - t_start
    summary = tracker.summary()
    summary.update(
        source=source, interrupted=interrupted, error=reader.error if not interrupted else None,
        frames_read=slot.produced, frames_dropped=slot.dropped, wall_s=round(wall, 2),
        fps_processed=round(summary["frames_processed"] / wall, 1) if wall > 0 else 0.0,
        latency_ms_p50=percentile(latency, 50), latency_ms_p95=percentile(latency, 95),
    )  # fmt: skip
    return summary


def draw(frame_rgb: np.ndarray, state: dict, fps: float | None = None) -> np.ndarray:
    """A BGR copy of the frame with the skeleton, exercise, confidence, reps and form cues drawn."""
    from workout_classifier.annotate import _draw_skeleton, _panel

    img = frame_rgb.copy()
    lm = state.get("landmarks")
    if lm is not None:
        _draw_skeleton(img, lm[:, :2], lm[:, 3])
    label = state.get("label") or "looking for a person..."
    conf = state.get("confidence")
    lines = [(label + (f" {conf:.0%}" if conf is not None else ""), (255, 255, 255)),
             (f"reps {state.get('reps', 0)}" + (f"  set {state['set']}" if state.get("set") else ""), (60, 220, 60))]  # fmt: skip
    lines += [(c, (250, 210, 40)) for c in state.get("form_cues") or []]
    if fps is not None:
        lines.append((f"{fps:.0f} fps  {state.get('latency_ms', 0):.0f} ms", (200, 200, 200)))
    _panel(img, lines)
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR)


def json_state(state: dict) -> dict:
    """The JSON line of one processed frame (landmarks left out: scripts want the answer)."""
    keep = (
        "time",
        "label",
        "confidence",
        "reps",
        "hold_seconds",
        "set",
        "set_label",
        "latency_ms",
        "form_cues",
    )
    return {k: state.get(k) for k in keep}


__all__ = [
    "LatestFrame",
    "LiveConfig",
    "Reader",
    "draw",
    "has_display",
    "json_state",
    "open_source",
    "run_live",
]
