"""Copies of a real clip changed the way another camera or another person would change it (issue 25):
mirrored, cropped towards the middle, shrunk, and the same frames played slower or faster (the
exercise done at another tempo). Used by tests/apps/test_invariance.py and bench/invariance.py."""

from __future__ import annotations

from pathlib import Path

import cv2

# name: (frame-rate factor, mirrored, share of width and height kept around the middle, scale)
VARIANTS = {
    "as is": (1.0, False, 1.0, 1.0),
    "mirrored": (1.0, True, 1.0, 1.0),
    "cropped 0.8": (1.0, False, 0.8, 1.0),
    "half size": (1.0, False, 1.0, 0.5),
    "slowed 0.8x": (0.8, False, 1.0, 1.0),
    "sped up 1.25x": (1.25, False, 1.0, 1.0),
}


def rewrite(src: Path, out: Path, variant: str = "as is", seconds: float = 6.0) -> Path:
    """The first `seconds` of `src` as `variant` (a key of VARIANTS), written to `out` (mp4)."""
    fps_factor, flip, keep, scale = VARIANTS[variant]
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cw, ch = int(w * keep) // 2 * 2, int(h * keep) // 2 * 2
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    size = (int(cw * scale) // 2 * 2, int(ch * scale) // 2 * 2)
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps * fps_factor, size)
    for _ in range(int(fps * seconds)):
        ok, f = cap.read()
        if not ok:
            break
        f = f[y0 : y0 + ch, x0 : x0 + cw]
        if scale != 1.0:
            f = cv2.resize(f, size, interpolation=cv2.INTER_AREA)
        vw.write(cv2.flip(f, 1) if flip else f)
    vw.release()
    cap.release()
    return out
