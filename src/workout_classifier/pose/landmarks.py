"""MediaPipe Pose on one clip, and the skeleton array contract every later stage reads.

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

import collections
import contextlib
import hashlib
import importlib
import itertools
import json
import os
import sys
import threading
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from workout_classifier._quiet import silenced_stderr
from workout_classifier.frames.damage import DecodeReport
from workout_classifier.frames.prefetch import prefetch
from workout_classifier.frames.video import DEFAULT_FPS, MAX_SIDE, VideoError, open_frames
from workout_classifier.pose.person import CHOOSE_FRAMES, MainPerson, find_people, landmark_box
from workout_classifier.pose.recovery import Recovery
from workout_classifier.pose.zoom import Zoom

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


# Frames decoded ahead of the pose model in a helper thread (0: decode inline).
PREFETCH_FRAMES = 4


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

    fps: float = DEFAULT_FPS  # 15 until the v4 cache; see video.DEFAULT_FPS
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


class _LazyPyplot(types.ModuleType):
    """Stands in for matplotlib.pyplot inside mediapipe's drawing helpers; loads it on use."""

    def __getattr__(self, name: str):
        if sys.modules.get("matplotlib.pyplot") is self:
            raise AttributeError(name)
        return getattr(importlib.import_module("matplotlib.pyplot"), name)


def import_mediapipe():
    """Import mediapipe without importing matplotlib.

    Only mediapipe's drawing helpers use pyplot, yet importing it is about 0.3 s of
    mediapipe's 0.45 s, paid by every worker process and every `predict`. The
    helpers keep working: their `plt` loads the real pyplot on first use.
    """
    with _IMPORT_LOCK:
        if "mediapipe" in sys.modules or "matplotlib.pyplot" in sys.modules:
            import mediapipe

            return mediapipe
        fakes = {"matplotlib.pyplot": _LazyPyplot("matplotlib.pyplot")}
        if "matplotlib" not in sys.modules:
            parent = types.ModuleType("matplotlib")
            parent.__path__ = []  # a package, so that the submodule import resolves
            parent.pyplot = fakes["matplotlib.pyplot"]
            fakes["matplotlib"] = parent
        sys.modules.update(fakes)
        try:
            import mediapipe
        finally:
            for name, mod in fakes.items():
                if sys.modules.get(name) is mod:
                    del sys.modules[name]
        return mediapipe


_IMPORT_LOCK = threading.Lock()


def create_pose(settings: PoseSettings, static: bool = False):
    """A MediaPipe Pose with the bundled full model: video (tracking) mode, or static (detect each frame)."""
    with silenced_stderr():
        mp = import_mediapipe()
        return mp.solutions.pose.Pose(
            static_image_mode=static,
            model_complexity=settings.model_complexity,
            smooth_landmarks=settings.smooth_landmarks,
            enable_segmentation=False,
            min_detection_confidence=settings.min_detection_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
        )


_STATIC = threading.local()


def shared_static_pose(settings: PoseSettings):
    """This thread's static-mode Pose for `settings`, kept from clip to clip.

    The static model detects every frame afresh and holds nothing between frames, so clips can
    share it; starting one costs its first frame (about 70 ms here), which the main-person look
    would otherwise pay on every clip (12 short clips: 9.5 s -> 8.6 s of extraction, issue 11).
    Tracking models are never shared: their state must not leak between clips.
    """
    # What create_pose gives the model (not the sampling rate): a helper started before its clip's
    # settings are known (early.py) starts its model with the default ones.
    key = (settings.model_complexity, settings.smooth_landmarks, settings.min_detection_confidence,
           settings.min_tracking_confidence)  # fmt: skip
    held = getattr(_STATIC, "pose", None)
    if held is None or held[0] != key:
        if held is not None:
            held[1].close()
        held = _STATIC.pose = (key, create_pose(settings, static=True))
    return held[1]


def _to_array(lms) -> np.ndarray:
    return np.array([(p.x, p.y, p.z, p.visibility) for p in lms.landmark], dtype=np.float32)


def pose_frame(pose, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """One RGB frame (H, W, 3) through a `create_pose` tracker: (landmarks (33, 4), world (33, 4), found).

    For live sources; rows are NaN where nobody was found, as in `extract_pose`.
    """
    with silenced_stderr():
        res = pose.process(frame)
    if res.pose_landmarks is None or res.pose_world_landmarks is None:
        nan = np.full((NUM_JOINTS, 4), np.nan, dtype=np.float32)
        return nan, nan.copy(), False
    return _to_array(res.pose_landmarks), _to_array(res.pose_world_landmarks), True


def _append(rows_img, rows_world, times, detected, img, world, t, ok) -> None:
    rows_img.append(img)
    rows_world.append(world)
    times.append(t)
    detected.append(ok)


def extract_pose(
    path: str | Path,
    settings: PoseSettings = PoseSettings(),
    on_frames=None,
    sha256: str | None = None,
    start: float = 0.0,
    stop: float | None = None,
    count_from: float | None = None,
    on_poses=None,
) -> PoseSequence:
    """Run pose tracking over the sampled frames of one clip.

    `on_frames(n)` is called every few frames with the count since the last call,
    for progress bars; `on_poses(so_far)` as often and once at the end, with a function that gives
    the frames done so far as a PoseSequence (its meta: the clip's header only), for results
    before the end. `start`/`stop` (seconds) track only that part of the clip
    (a chunk, split.py); `count_from` (s): where its decode report starts (after a chunk's
    warm-up). Raises VideoError for files that cannot be decoded.
    """
    # What the decoder could not read, counted as it decodes (damage.py).
    decode = DecodeReport(count_from=start if count_from is None else count_from)
    info, frames = open_frames(
        path,
        settings.fps,
        max_side=settings.max_side or None,
        start=start,
        stop=stop,
        report=decode,
    )  # one open
    source = prefetch(frames, PREFETCH_FRAMES)
    ahead: collections.deque = collections.deque()  # frames read ahead to choose the main person

    def peek(n: int) -> list:
        ahead.extend(itertools.islice(source, max(0, n - len(ahead))))
        return list(itertools.islice(ahead, n))

    rows_img, rows_world, times, detected = [], [], [], []
    nan = np.full((NUM_JOINTS, 4), np.nan, dtype=np.float32)
    pending = 0
    pose = create_pose(settings)
    recovery = None  # created on first need only (a missed frame)

    def static_pose():  # the look for other people, and recovery's last resort
        return shared_static_pose(settings)

    def so_far() -> PoseSequence:
        return PoseSequence(np.stack(rows_img), np.stack(rows_world), np.asarray(times, dtype=np.float64),
                            np.asarray(detected, dtype=bool), info.to_dict())  # fmt: skip

    recovered = choices = 0
    main = MainPerson()
    zoom = Zoom(settings.zoom)  # a crop around a person too small for the whole frame (zoom.py)
    try:
        with silenced_stderr():
            while ahead or (item := next(source, None)) is not None:
                t, full = ahead.popleft() if ahead else item
                frame = zoom.crop(full)  # every step below sees the crop; landmarks are mapped back
                view = main.view(frame)  # the whole frame, or the main person's region only
                res = pose.process(view)
                ok = res.pose_landmarks is not None and res.pose_world_landmarks is not None
                img, world = (
                    (_to_array(res.pose_landmarks), _to_array(res.pose_world_landmarks))
                    if ok
                    else (nan, nan)
                )
                rec = False
                if not ok and settings.recover:
                    recovery = recovery or Recovery(settings, create_pose, static_pose, _to_array)
                    found = recovery.frame(view)
                    if found is not None:
                        img, world, _ = found
                        ok = rec = True
                if not ok and zoom.look_due():
                    found = zoom.look(static_pose(), full, _to_array)
                    if found is not None:  # tracked on the crop from the next frame on
                        pose.close()
                        pose = create_pose(settings)
                        main = MainPerson()
                        zoom.update(True)
                        _append(rows_img, rows_world, times, detected, found[0], found[1], t, True)
                        pending += 1
                        continue
                if ok and settings.main_person and not main.checked:
                    main.checked = True
                    boxes = find_people(static_pose(), view, landmark_box(img), _to_array)
                    if len(boxes) > 1:
                        choices += 1
                        ahead_frames = [zoom.crop(f) for _, f in peek(CHOOSE_FRAMES - 1)]
                        k = main.choose(boxes, [frame] + ahead_frames)
                        if (
                            k != 0
                        ):  # the tracker holds someone else: start it again on the chosen one
                            pose.close()
                            pose = create_pose(settings)
                            ahead.appendleft((t, full))
                            continue
                main.update(img if ok else None)
                if ok:
                    img = zoom.to_full(img, full.shape)
                zoom.update(ok)
                recovered += rec
                _append(rows_img, rows_world, times, detected, img, world, t, ok)
                pending += 1
                if pending >= 16:
                    if on_frames:
                        on_frames(pending)
                    if on_poses is not None:
                        on_poses(so_far)
                    pending = 0
    finally:
        source.close()
        pose.close()
        if recovery is not None:
            recovery.close()
    if on_frames and pending:
        on_frames(pending)
    if on_poses is not None and times:
        on_poses(so_far)
    if not times:
        raise VideoError("no frames could be decoded (empty or truncated video)")
    t_arr = np.asarray(times, dtype=np.float64)
    meta = {
        **info.to_dict(),
        "decoded_frames_sampled": len(times),
        "recovered_frames": recovered,
        "people": main.people,  # most people found at a choice of the main person (1: never more)
        "main_person_choices": choices,
        "zoomed_frames": zoom.zoomed_frames,  # frames tracked on a crop around a small person (zoom.py)
        "decode": decode.to_dict(),
        "sampled_fps": min(settings.fps or info.fps, info.fps),
        "sha256": sha256 or file_sha256(path),
        "settings": settings.to_dict(),
        "source": str(path),
    }
    return PoseSequence(
        landmarks=np.stack(rows_img), world=np.stack(rows_world), times=t_arr,
        detected=np.asarray(detected, dtype=bool), meta=meta,
    )  # fmt: skip
