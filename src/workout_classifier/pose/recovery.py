"""Pose recovery: a second, harder look at frames where video-mode tracking found nobody.

The tracker's person detector is weakest on bodies lying horizontally (bench
press, planks, push-ups filmed from the side) and on small 320x240 frames.
Every missed frame goes to three more video-mode trackers, which see only the
missed frames, so through a run of misses they keep following a person once
found instead of detecting anew each frame: one upright with a lower detection
confidence, and one each on the frame turned by +90 and -90 degrees. The first
of them (in that order) that found a person wins. If none finds anybody, the frame goes through a static-mode (detect every time) BlazePose:
enlarged (small frames only) or as is, then turned both ways. Landmarks found
on a turned frame are turned back into the original frame. Clips that need no
recovery never create these models, so they cost nothing extra.

Measured (bench/results/pose_recovery.md): on the 98 bench press clips that need
recovery, frames with a person 0.706 with the static look alone (settings
version 3) -> 0.834 with these trackers first; the whole bench press set 0.745 ->
0.856. Asking only the tracker that found the person last, and the others when it
fails, was a little cheaper and found less (0.803 vs 0.817 of the frames of 43
single-person bench press clips).
"""

from __future__ import annotations

import cv2
import numpy as np

SMALL_SIDE = 360  # frames whose shorter side is below this are enlarged first
_UPSCALE = 2
LOW_CONFIDENCE = 0.3  # detection confidence of the upright recovery tracker (the main one uses 0.5)
_TURNS = (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE)


def _unturn(img: np.ndarray, world: np.ndarray, turn: int) -> tuple[np.ndarray, np.ndarray]:
    """Map (33, 4) landmarks found on a frame turned by `turn` (cv2 code) back to the original."""
    img, world = img.copy(), world.copy()
    xr, yr = img[:, 0].copy(), img[:, 1].copy()
    wx, wy = world[:, 0].copy(), world[:, 1].copy()
    if turn == cv2.ROTATE_90_CLOCKWISE:  # original (x, y) -> turned (1 - y, x)
        img[:, 0], img[:, 1] = yr, 1.0 - xr
        world[:, 0], world[:, 1] = wy, -wx
    else:  # ROTATE_90_COUNTERCLOCKWISE: original (x, y) -> turned (y, 1 - x)
        img[:, 0], img[:, 1] = 1.0 - yr, xr
        world[:, 0], world[:, 1] = -wy, wx
    return img, world


def recover_frame(
    static_pose, frame: np.ndarray, to_array
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(landmarks (33, 4), world (33, 4), how) for an RGB frame (H, W, 3), or None if nobody.

    `static_pose` is a static-image-mode MediaPipe Pose; `to_array` turns its
    landmark lists into (33, 4) arrays. `how` says which attempt found the person.
    """
    h, w = frame.shape[:2]
    base = frame
    if min(h, w) < SMALL_SIDE:
        base = cv2.resize(frame, (w * _UPSCALE, h * _UPSCALE), interpolation=cv2.INTER_CUBIC)
        res = static_pose.process(base)
        if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
            return to_array(res.pose_landmarks), to_array(res.pose_world_landmarks), "enlarged"
    else:
        res = static_pose.process(base)
        if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
            return to_array(res.pose_landmarks), to_array(res.pose_world_landmarks), "static"
    for turn in _TURNS:
        res = static_pose.process(np.ascontiguousarray(cv2.rotate(base, turn)))
        if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
            img, world = _unturn(
                to_array(res.pose_landmarks), to_array(res.pose_world_landmarks), turn
            )
            return img, world, "turned"
    return None


class Recovery:
    """The recovery trackers of one clip, created on the first missed frame.

    `make_pose(settings)` makes a video-mode MediaPipe Pose (pose.create_pose);
    `static_pose()` returns the clip's static-mode one (shared with the main-person look).

    Rationed, because a missed frame otherwise costs up to six more pose runs: a tracker
    that has found nobody in its first `RETIRE_AFTER` missed frames is dropped for the
    clip (the camera does not turn mid-clip), the static look runs only while no tracker
    has ever found the person, and after `BACKOFF_AFTER` missed frames in a row that
    nothing recovered, only every `BACKOFF_EVERY`-th missed frame is looked at again
    until one is found (later stages interpolate the gaps).
    """

    # Chosen on 12 clips that need recovery (8 UCF101 bench press, 2 lunges, 2 pull up; 691 frames,
    # one process): unrationed 23.8 s, frames with a person 0.883 (the static look ran 248 times and
    # found 2); these values 20.5 s, 0.877; (10, 3, 3) 18.4 s, 0.863; static look never 20.5 s, 0.880.
    RETIRE_AFTER = 20
    BACKOFF_AFTER = 5
    BACKOFF_EVERY = 2

    def __init__(self, settings, make_pose, static_pose, to_array):
        from dataclasses import replace

        low = replace(
            settings,
            min_detection_confidence=min(LOW_CONFIDENCE, settings.min_detection_confidence),
        )
        self.trackers = [(make_pose(low), None), *((make_pose(settings), turn) for turn in _TURNS)]
        self.seen = [0] * len(self.trackers)  # missed frames each tracker has looked at
        self.found = [0] * len(self.trackers)  # ... and found a person in
        self.static_pose, self.to_array = static_pose, to_array
        self.misses = 0  # missed frames in a row that nothing recovered

    def _live(self, i: int) -> bool:
        return self.found[i] > 0 or self.seen[i] < self.RETIRE_AFTER

    def frame(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, str] | None:
        """(landmarks (33, 4), world (33, 4), how) for a missed RGB frame, or None if nobody."""
        if (
            self.misses >= self.BACKOFF_AFTER
            and (self.misses - self.BACKOFF_AFTER) % self.BACKOFF_EVERY
        ):
            self.misses += 1
            return None
        best = None
        for i, (pose, turn) in enumerate(
            self.trackers
        ):  # every live tracker sees every looked-at frame
            if not self._live(i):
                continue
            res = pose.process(
                frame if turn is None else np.ascontiguousarray(cv2.rotate(frame, turn))
            )
            self.seen[i] += 1
            if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
                self.found[i] += 1
                if best is None:
                    lms, world = (
                        self.to_array(res.pose_landmarks),
                        self.to_array(res.pose_world_landmarks),
                    )
                    best = (
                        (lms, world, "tracked")
                        if turn is None
                        else (*_unturn(lms, world, turn), "tracked turned")
                    )
        if best is None and not any(
            self.found
        ):  # the static look, until some tracker has found the person
            best = recover_frame(self.static_pose(), frame, self.to_array)
        self.misses = 0 if best is not None else self.misses + 1
        return best

    def close(self) -> None:
        for pose, _ in self.trackers:
            pose.close()
