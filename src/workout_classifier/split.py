"""One clip on two cores: two pose graphs, each on one part of the clip.

A MediaPipe pose graph runs on one core at a time (two graphs in two threads of
one process are no faster), so a single clip leaves the second core idle. Here a
helper process tracks the end of the clip while this process tracks the
start; the helper starts at once and loads MediaPipe while this process decodes
its first frames, and gets the smaller part, since it starts later. Tracking restarts at the cut: the helper begins `overlap`
sampled frames early, and those warm-up frames are dropped, so every kept frame
of the second half comes from a tracker that has already found the person.

Frames are the same as `pose.extract_pose` samples (`video.open_frames`), and
the result is the same kind of PoseSequence, with `meta["split"]` saying how it
was made. It is meant for a clip whose poses are not kept (a cold `workout
predict` with no cache): tracking restarted at the cut makes the landmarks near
it differ slightly from one graph's, so a shared cache keeps one-graph results.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from workout_classifier._quiet import silence_stderr_forever, silenced_stderr
from workout_classifier.pose import (
    NUM_JOINTS,
    PoseSequence,
    PoseSettings,
    _to_array,
    create_pose,
    file_sha256,
)
from workout_classifier.video import VideoError, open_frames, prefetch, probe, sample_stride

OVERLAP = 8  # sampled frames the second graph tracks before the cut (about 0.5 s at 15 fps)
# The helper starts late (a fresh interpreter, MediaPipe's import, and decoding the frames before its
# start), so the cut sits after the middle by half this many frames. Chosen on `workout predict` of a
# 5 s clip, 3 runs each on 2 cores: 0 -> 1.21-1.33 s, 20 -> 1.18-1.27 s, 40 -> 1.30-1.37 s.
HELPER_START = 20
MIN_TAIL = 8  # fewer frames left for the helper: one graph, nothing to gain


def track_range(path: str, settings: PoseSettings, start: int, stop: int | None) -> dict:
    """Pose of sampled frames start..stop-1 (stop None: to the end) with one fresh graph: arrays and info."""
    info, frames = open_frames(path, settings.fps)
    frames = prefetch(frames, 4)
    nan = np.full((NUM_JOINTS, 4), np.nan, dtype=np.float32)
    img, world, times, detected = [], [], [], []
    pose = create_pose(settings)
    try:
        with silenced_stderr():
            for i, (t, frame) in enumerate(frames):
                if stop is not None and i >= stop:
                    break
                if i < start:
                    continue  # decoded to stay on the sampled clock; not tracked
                res = pose.process(frame)
                ok = res.pose_landmarks is not None and res.pose_world_landmarks is not None
                img.append(_to_array(res.pose_landmarks) if ok else nan)
                world.append(_to_array(res.pose_world_landmarks) if ok else nan)
                times.append(t)
                detected.append(ok)
    finally:
        pose.close()
        frames.close()
    empty = np.zeros((0, NUM_JOINTS, 4), np.float32)
    return {
        "img": np.stack(img) if img else empty, "world": np.stack(world) if world else empty,
        "times": np.asarray(times, np.float64), "detected": np.asarray(detected, bool), "info": info.to_dict(),
    }  # fmt: skip


def _helper_init() -> None:
    silence_stderr_forever()  # its errors come back as exceptions


def expected_frames(path: str | Path, fps: float | None) -> int:
    """Sampled frames the header promises (headers can be off; decoding is truth)."""
    info = probe(path)
    return int(info.frame_count / sample_stride(info.fps, fps))


def extract_pose_split(path: str | Path, settings: PoseSettings = PoseSettings(), overlap: int = OVERLAP,
                       sha256: str | None = None) -> PoseSequence:  # fmt: skip
    """Like pose.extract_pose, on two cores. Raises VideoError for files that cannot be decoded."""
    path = str(path)
    n = expected_frames(path, settings.fps)
    cut = min((n + overlap + HELPER_START) // 2, n)  # both finish together: cut = S + (n - cut + overlap)
    if n - cut < MIN_TAIL:
        parts = [track_range(path, settings, 0, None)]
    else:
        ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=_helper_init) as pool:
            second = pool.submit(track_range, path, settings, cut - overlap, None)
            first = track_range(path, settings, 0, cut)
            rest = second.result()
        # The helper started at frame cut - overlap; its frames before the first half's end were its warm-up
        # (all `overlap` of them, unless the file has fewer frames than its header promised).
        drop = min(max(len(first["times"]) - (cut - overlap), 0), len(rest["times"]))
        parts = [first, {k: (v[drop:] if k != "info" else v) for k, v in rest.items()}]
    times = np.concatenate([p["times"] for p in parts])
    if not len(times):
        raise VideoError("no frames could be decoded (empty or truncated video)")
    info = parts[0]["info"]
    meta = {
        **info,
        "decoded_frames_sampled": len(times),
        "sampled_fps": min(settings.fps or info["fps"], info["fps"]),
        "sha256": sha256 or file_sha256(path),
        "settings": asdict(settings),
        "source": path,
        "split": {"parts": len(parts), "cut_frame": cut if len(parts) > 1 else None, "overlap": overlap},
    }
    return PoseSequence(
        landmarks=np.concatenate([p["img"] for p in parts]), world=np.concatenate([p["world"] for p in parts]),
        times=times, detected=np.concatenate([p["detected"] for p in parts]), meta=meta,
    )  # fmt: skip
