"""Clips written with PyAV for format and orientation tests: rotation tags, codecs,
variable frame rates, audio tracks.

`upright_pattern` is an asymmetric picture (a bright block in the top-left, a
colour ramp), so that a frame shown sideways or upside down cannot pass for upright.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

# Quiet encoders: x265 and SVT-AV1 log to the terminal themselves.
_QUIET = {
    "libx265": {"x265-params": "log-level=none"},
    "libsvtav1": {"svtav1-params": "svt-log-level=0"},
}


def upright_pattern(width: int, height: int, i: int = 0) -> np.ndarray:
    """(H, W, 3) uint8: dark background, white block at the top-left, a moving red bar."""
    img = np.zeros((height, width, 3), np.uint8)
    img[..., 2] = np.linspace(40, 200, width, dtype=np.uint8)[None, :]  # blue ramp left -> right
    img[: height // 3, : width // 4] = 255
    x = (i * 3) % max(width - 4, 1)
    img[height // 2 :, x : x + 4, 0] = 255
    return img


def require_codec(codec: str) -> None:
    import av

    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg build (PyAV {av.__version__}) has no {codec} encoder")


def write_clip(
    path: Path,
    frames: list[np.ndarray] | None = None,
    *,
    codec: str = "libx264",
    fps: float = 10.0,
    size: tuple[int, int] = (64, 48),
    n: int = 10,
    display_rotation: int = 0,
    rotate_tag: int | None = None,
    times: list[float] | None = None,
    audio: bool = False,
) -> Path:
    """Write `frames` (default: `n` frames of `upright_pattern` at `size` = (width, height)).

    display_rotation: counter-clockwise degrees stored in the display matrix (what
    PyAV's frame.rotation reads back; a phone's portrait clip says -90).
    rotate_tag: the older `rotate` metadata tag (clockwise degrees).
    times: presentation time of each frame in seconds (variable frame rate).
    """
    import av

    require_codec(codec)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if frames is None:
        frames = [upright_pattern(*size, i) for i in range(n)]
    h, w = frames[0].shape[:2]
    tb = Fraction(1, 1000) if times is not None else None
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        s.width, s.height = w, h
        s.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if codec in _QUIET:
            s.options = _QUIET[codec]
        if tb is not None:
            s.codec_context.time_base = tb
        if display_rotation:
            if not hasattr(s, "set_display_rotation"):
                pytest.skip(
                    f"PyAV {av.__version__} cannot write a display matrix (needs set_display_rotation)"
                )
            s.set_display_rotation(display_rotation)
        if rotate_tag is not None:
            s.metadata["rotate"] = str(rotate_tag)
        a = None
        if audio:
            a = c.add_stream("aac", rate=44100)
        for i, img in enumerate(frames):
            fr = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            if tb is not None:
                fr.pts, fr.time_base = round(times[i] * 1000), tb
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
        if a is not None:
            _write_silence(a, c, seconds=len(frames) / fps)
    return path


def _write_silence(stream, container, seconds: float) -> None:
    import av

    for k in range(int(seconds * 44100 / 1024) + 1):
        fr = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        fr.sample_rate, fr.pts = 44100, k * 1024
        for p in stream.encode(fr):
            container.mux(p)
    for p in stream.encode():
        container.mux(p)


def stored_for(upright: np.ndarray, display_rotation: int) -> np.ndarray:
    """The stored (sideways) picture that a player turns by `display_rotation` (CCW) into `upright`."""
    return np.ascontiguousarray(np.rot90(upright, -(display_rotation // 90)))
