"""MediaPipe Pose on one clip: import it cheaply, make the models, and track the sampled frames
of a clip into a ``PoseSequence`` (the array contract, landmarks.py).
"""

from __future__ import annotations

import collections
import importlib
import itertools
import sys
import threading
import types
from pathlib import Path

import numpy as np

from workout_classifier._quiet import silenced_stderr
from workout_classifier.frames.damage import DecodeReport
from workout_classifier.frames.prefetch import prefetch
from workout_classifier.frames.sampling import open_frames
from workout_classifier.frames.video import VideoError
from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence, PoseSettings, file_sha256
from workout_classifier.pose.person import CHOOSE_FRAMES, MainPerson, find_people, landmark_box
from workout_classifier.pose.recovery import Recovery
from workout_classifier.pose.zoom import Zoom

# Frames decoded ahead of the pose model in a helper thread (0: decode inline).
PREFETCH_FRAMES = 4


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
