"""The skeleton array contract every later stage reads: ``PoseSequence``, the settings that made
it, and the joint constants. The MediaPipe run that fills it is runner.py.

Array contract (one clip, T sampled frames, V = 33 BlazePose joints):

- ``landmarks``  float32 (T, 33, 4): x, y in image-normalized units (0..1 of width
  and height; may fall slightly outside), z relative depth in about x's scale
  (smaller is nearer the camera), visibility in 0..1.
- ``world``      float32 (T, 33, 4): x, y, z in metres with the origin between the
  hips, y pointing down; the 4th channel is visibility again.
- ``times``      float64 (T,): seconds from the start of the clip.
- ``detected``   bool (T,): False where the pose model found nobody; those frames
  are NaN in ``landmarks`` and ``world`` (never zeros, which look like a pose).
- ``meta``       dict: source fps, frame count, width, height, duration, sampled
  fps, the clip's sha256, the extraction settings, how many frames recovery found
  (``recovered_frames``), and the most people seen when choosing whom to follow
  (``people``; ``main_person_choices`` says how often a choice was made), and what the
  decoder could not read (``decode``: frames damaged or lost, how far a cut-short file got;
  frames/damage.py). Files of older code lack ``decode``: predict then decodes the clip again.

Batches for models follow pyskl: (N, T, V, C), plus visibility as a channel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from workout_classifier.frames.sampling import DEFAULT_FPS, MAX_SIDE

NUM_JOINTS = 33
JOINT_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
# Index of each joint's mirror image (left <-> right); used by augmentation and TTA.
FLIP_INDEX = tuple(
    JOINT_NAMES.index(n.replace("left", "#").replace("right", "left").replace("#", "right"))
    for n in JOINT_NAMES
)
# Skeleton edges (child, parent) as drawn by MediaPipe, used for bones and graphs.
BONES = (
    (1, 0), (2, 1), (3, 2), (7, 3), (4, 0), (5, 4), (6, 5), (8, 6), (9, 10), (10, 0),
    (11, 12), (13, 11), (15, 13), (17, 15), (19, 15), (21, 15), (14, 12), (16, 14),
    (18, 16), (20, 16), (22, 16), (23, 11), (24, 12), (23, 24), (25, 23), (27, 25),
    (29, 27), (31, 27), (26, 24), (28, 26), (30, 28), (32, 28),
)  # fmt: skip


class NoPersonError(Exception):
    """The pose model found nobody in any sampled frame of the clip."""


@dataclass(frozen=True)
class PoseSettings:
    """What changes the extracted arrays; part of every cache key."""

    # Bumped whenever extraction changes what it produces for the same settings
    # (2: upright frames by the container's rotation, presentation timestamps,
    # frames scaled to max_side; 3: pose recovery; 4: main person, recovery
    # trackers; 5: recovery rationed; 6: zoom on small people), so caches made by older code are never
    # read as new. A class constant, not a field: a checkpoint's stored settings
    # cannot pin an old version onto new code.
    VERSION: ClassVar[int] = 6

    fps: float = DEFAULT_FPS  # 15 until the v4 cache; see sampling.DEFAULT_FPS
    model_complexity: int = 1  # 1 = BlazePose full, the model bundled in the wheel
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    smooth_landmarks: bool = True
    max_side: int = MAX_SIDE  # longest frame side given to the pose model (0: full size)
    recover: bool = True  # re-detect frames the tracker misses (recovery.py)
    # With several people in view, follow the exerciser (person.py). On by default since 2026-12-04: with
    # pose version 5 it chooses on 33 of the 642 clips of ../shared/data (a spotter, a bystander), and
    # trees over 3 seeds kept grouped accuracy (0.922 -> 0.921) and gained grouped macro-F1 0.895 ->
    # 0.902 (chest fly F1 0.65 -> 0.71-0.77: UCF101 pull-up clips tracked on a standing bystander
    # read as chest fly) and leave-source-out accuracy 0.847 -> 0.861. It looks once more with the static
    # model when a person is first found (that model is kept from clip to clip: shared_static_pose).
    # With an earlier pose version (15 clips with a second person) it had cost grouped accuracy (0.920 ->
    # 0.913). Live makes it too, a second late (person.StreamChoice).
    main_person: bool = True
    # Where nobody is found on the whole frame, look on tiles and track a small person on a crop
    # (zoom.py; version 6).
    zoom: bool = True

    def __post_init__(self):
        # Normalize types so that fps=15 and fps=15.0 give the same cache key.
        for name, typ in (("fps", float), ("model_complexity", int), ("min_detection_confidence", float),
                          ("min_tracking_confidence", float), ("smooth_landmarks", bool), ("max_side", int),
                          ("recover", bool), ("main_person", bool), ("zoom", bool)):  # fmt: skip
            value = getattr(self, name)
            if value is not None:  # fps=None means every frame
                object.__setattr__(self, name, typ(value))
        if self.fps is not None and self.fps <= 0:
            object.__setattr__(self, "fps", None)  # --fps 0: every frame, same key as None

    def to_dict(self) -> dict:
        """The fields and the extraction version (what cache keys and metadata record)."""
        return {**asdict(self), "version": self.VERSION}

    def key(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:10]


@dataclass
class PoseSequence:
    landmarks: np.ndarray  # (T, 33, 4) float32
    world: np.ndarray  # (T, 33, 4) float32
    times: np.ndarray  # (T,) float64
    detected: np.ndarray  # (T,) bool
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        t = len(self.times)
        assert self.landmarks.shape == (t, NUM_JOINTS, 4), self.landmarks.shape
        assert self.world.shape == (t, NUM_JOINTS, 4), self.world.shape
        assert self.detected.shape == (t,), self.detected.shape

    @property
    def num_frames(self) -> int:
        return len(self.times)

    @property
    def detection_rate(self) -> float:
        return float(self.detected.mean()) if len(self.detected) else 0.0

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename) so a killed run never leaves half a file."""
        with atomic_write(Path(path)) as fh:
            np.savez_compressed(
                fh, landmarks=self.landmarks, world=self.world, times=self.times,
                detected=self.detected, meta=np.array(json.dumps(self.meta)),
            )  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> PoseSequence:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                landmarks=z["landmarks"].astype(np.float32),
                world=z["world"].astype(np.float32),
                times=z["times"].astype(np.float64),
                detected=z["detected"].astype(bool),
                meta=json.loads(str(z["meta"])),
            )


@contextlib.contextmanager
def atomic_write(path: Path):
    """Open `<path>.<pid>.tmp` for binary writing and rename it to `path` when the block ends.

    The pid in the name lets the cache tell a dead writer's leftovers from a live one's.
    """
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            yield fh
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
