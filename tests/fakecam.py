"""A fake camera for headless Chromium: a clip written as .y4m, the flags that feed it to getUserMedia,
and the steps that open camera mode on the page. Used by tests/test_browser_camera.py and bench/live.py.

Chromium plays the file in a loop as the camera (`--use-file-for-fake-video-capture`);
y4m is raw I420 frames behind a one-line header, so it needs no encoder at all.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2


def write_y4m(
    clip: Path, out: Path, fps: float = 30.0, width: int = 480, seconds: float | None = None
) -> dict:
    """`clip` resampled to `fps` and scaled to `width` (height to keep the aspect), as y4m; returns its facts."""
    cap = cv2.VideoCapture(str(clip))
    if not cap.isOpened():
        raise ValueError(f"{clip}: cannot be opened")
    src_fps = cap.get(cv2.CAP_PROP_FPS) or fps
    w0, h0 = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    w = width // 2 * 2
    h = round(h0 * w / w0 / 2) * 2  # I420 wants even sides
    out = Path(out)
    written, index, due = 0, 0, 0.0
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{round(fps * 1000)}:1000 Ip A1:1 C420jpeg\n".encode())
        while seconds is None or written < seconds * fps:
            ok, bgr = cap.read()
            if not ok:
                break
            t = index / src_fps
            index += 1
            if t + 1e-6 < due:  # resample: keep the frame nearest each output time
                continue
            due += 1.0 / fps
            yuv = cv2.cvtColor(
                cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2YUV_I420
            )
            f.write(b"FRAME\n")
            f.write(yuv.tobytes())  # Y plane, then U, then V: what y4m's 420 layout is
            written += 1
    cap.release()
    if not written:
        raise ValueError(f"{clip}: no frames decoded")
    return {
        "path": out,
        "width": w,
        "height": h,
        "fps": fps,
        "frames": written,
        "seconds": written / fps,
    }


def camera_args(y4m: Path, fake_ui: bool = True) -> list[str]:
    """Chromium flags: a fake camera showing `y4m`; `fake_ui` answers the permission prompt with yes."""
    args = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"]
    return args + (["--use-fake-ui-for-media-stream"] if fake_ui else [])


def open_camera_mode(page, base: str, query: str = "") -> None:
    """Load the page (with `query`, e.g. "?zoom=0") and press the camera button; returns once the
    server's session is ready."""
    page.goto(base + "/" + query)
    page.wait_for_selector("#model-info:not(:empty)")
    page.click("#camera-start")
    page.wait_for_selector("#camera:not([hidden])")
    wait_until(page, "window.liveStats && window.liveStats.frames > 0", timeout=120)


def wait_until(page, expression: str, timeout: float = 60.0, every: float = 0.1):
    """Poll a JS expression until it is truthy (page.wait_for_function evaluates strings, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(every * 1000)


def live_stats(page) -> dict:
    """The page's own figures (camera.js): frames, fps, dropped, latency p50/p95 and the samples."""
    return page.evaluate("JSON.parse(JSON.stringify(window.liveStats))")
