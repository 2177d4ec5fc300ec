"""Zoom: find a person too small in the frame for the pose model, and track them on a crop.

BlazePose's detector sees the whole frame at 224x224, so a lifter far from the camera (a wide gym
shot, a phone at the back of a room) is too few pixels for it: a real squat clip pasted at 0.15 of a
720p frame's height was found in 0 of 50 frames, at 0.2 in 8, at 0.3 in all (tests/pose/test_zoom.py
makes such a clip). When tracking and recovery have found nobody in the first `LOOK_AFTER` frames of a
clip, the static model looks at overlapping tiles of the frame, each half its width and height, so a
person there is twice as large to the detector (again after 2x and 4x as many frames, `MAX_LOOKS` in
all). Only before anyone was found: mid-clip, a tile could as well hold a spotter or a bystander. Where it finds someone, the tracker sees
from then on a crop around them (about `CROP` times their size, held still while they are found) and
their landmarks are mapped back to full-frame coordinates; world landmarks (metres) need no mapping.
Clips where someone is found on the whole frame never look, and a clip looks at most `MAX_LOOKS`
times, so a clip with nobody in it costs a bounded few static runs.
"""

from __future__ import annotations

import numpy as np

TILE = 0.5  # tile side, as a share of the frame's width and height
TILE_STARTS = (0.0, 0.25, 0.5)  # 3 x 3 overlapping tiles
LOOK_AFTER = 3  # frames from the start with nobody found before the first look
LOST_FRAMES = 15  # missed frames in a row after which the crop is dropped (whole frame again)
MAX_LOOKS = 3
CROP = 2.4  # crop side / the person's longer box side (room to squat, spread arms, step out)
MIN_CROP = 0.3  # ... but at least this share of the frame's shorter side
MIN_SIDE = 240  # frames with fewer lines are not zoomed into (tiles of 120 lines at least)


class Zoom:
    """Per-clip state: the crop the tracker sees (None: the whole frame) and when to look."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.region: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 in pixels
        self.missed = 0
        self.looks = 0
        self.found_any = False  # someone was found in this clip: no more looks
        self.zoomed_frames = 0

    def crop(self, frame: np.ndarray) -> np.ndarray:
        if self.region is None:
            return frame
        x0, y0, x1, y1 = self.region
        return frame[y0:y1, x0:x1]

    def to_full(self, img: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """(33, 4) landmarks found on the crop -> the full frame's normalized coordinates."""
        if self.region is None:
            return img
        h, w = shape[:2]
        x0, y0, x1, y1 = self.region
        return view_to_full(img, (x0 / w, y0 / h, x1 / w, y1 / h))

    def look_due(self) -> bool:
        # At the LOOK_AFTER-th, 2x and 4x that many frames with nobody: a bounded cost on clips with nobody.
        return (
            self.enabled
            and not self.found_any
            and self.looks < MAX_LOOKS
            and self.missed + 1 == LOOK_AFTER * 2**self.looks
        )

    def look(
        self, static_pose, frame: np.ndarray, to_array
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Tiles of `frame` through the static model; the first person found sets the crop.
        Returns their (landmarks, world) in full-frame coordinates, or None.

        Frames under MIN_SIDE lines are not looked at: a person there is not too small for the
        detector but too blurred for it, and on tiles that small it guesses (a 160 x 120 drawing of
        a ball and a box got a "person")."""
        self.looks += 1
        h, w = frame.shape[:2]
        if min(h, w) < MIN_SIDE:
            return None
        for tile in [(tx, ty) for ty in TILE_STARTS for tx in TILE_STARTS]:
            hit = _on_tile(static_pose, frame, _tile_box(tile, h, w), to_array)
            if hit is not None:
                self.region, self.missed = crop_around(hit[0], h, w), 0
                return hit
        return None

    def update(self, found: bool) -> None:
        """After each frame: whether a person was found."""
        if found:
            self.missed = 0
            self.found_any = True
            self.zoomed_frames += self.region is not None
            return
        self.missed += 1
        if self.region is not None and self.missed >= LOST_FRAMES:
            self.region = None


def _on_tile(static_pose, frame: np.ndarray, tile, to_array):
    """(landmarks in full-frame coordinates, world) of a person the static model finds in a
    region (x0, y0, x1, y1 pixels) of the frame."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = tile
    res = static_pose.process(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    if res.pose_landmarks is None or res.pose_world_landmarks is None:
        return None
    img = view_to_full(to_array(res.pose_landmarks), (x0 / w, y0 / h, x1 / w, y1 / h))
    return img, to_array(res.pose_world_landmarks)


def view_to_full(img: np.ndarray, view: tuple[float, float, float, float]) -> np.ndarray:
    """(33, 4) landmarks found on a part of a frame (x0, y0, x1, y1 as shares of the frame's width and
    height) -> the whole frame's normalized coordinates. Also for the page's camera mode, whose
    browser sends such a part (serve/camera.py)."""
    x0, y0, x1, y1 = view
    out = img.copy()
    out[:, 0] = x0 + img[:, 0] * (x1 - x0)
    out[:, 1] = y0 + img[:, 1] * (y1 - y0)
    out[:, 2] = img[:, 2] * (x1 - x0)  # depth is in units of the image width
    return out


def _tile_box(tile, h: int, w: int) -> tuple[int, int, int, int]:
    """A tile (x0, y0 as shares of the frame) in pixels."""
    return int(tile[0] * w), int(tile[1] * h), int((tile[0] + TILE) * w), int((tile[1] + TILE) * h)


def crop_around(img: np.ndarray, h: int, w: int) -> tuple[int, int, int, int]:
    """A square crop (pixels) of CROP times the visible joints' longer side, kept inside the frame."""
    vis = img[:, 3] > 0.3
    pts = img[vis if vis.sum() >= 4 else slice(None), :2] * (w, h)
    (bx0, by0), (bx1, by1) = pts.min(0), pts.max(0)
    side = max(CROP * max(bx1 - bx0, by1 - by0), MIN_CROP * min(h, w))
    side = int(min(side, h, w))
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    x0 = int(np.clip(cx - side / 2, 0, w - side))
    y0 = int(np.clip(cy - side / 2, 0, h - side))
    return x0, y0, x0 + side, y0 + side
