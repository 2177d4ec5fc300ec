"""One clip on all cores: the clip cut into chunks by time, one pose graph per chunk.

A MediaPipe pose graph runs on one core at a time (two graphs in two threads of
one process are no faster), so a single clip leaves the other cores idle. Here
helper processes track the later chunks while this process tracks the first;
the helpers start at once and load MediaPipe while this process decodes its
first frames, and get smaller chunks, since they start later. A cold `workout
predict` forks them earlier still, once MediaPipe is imported (early.py). Each helper seeks
to its chunk (video.open_frames with `start`) rather than decoding its way there,
so a long session costs each process only its own part of the decoding.

Tracking restarts at every cut: a helper begins `overlap` sampled frames before
its cut, and those warm-up frames are dropped, so every kept frame comes from a
tracker that has already found the person. Frames and times are exactly those of
one graph over the whole clip (the sampled clock does not depend on where
decoding starts); landmarks near a cut differ slightly from one graph's (a
restarted tracker's smoothing starts afresh). So it is meant for a clip whose
poses are not kept (a cold `workout predict` with no cache): a shared cache keeps
one-graph results. `meta["split"]` says how a sequence was made.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np

from workout_classifier.frames.damage import merge_reports
from workout_classifier.frames.sampling import sample_stride
from workout_classifier.frames.video import VideoError, probe
from workout_classifier.pose import early
from workout_classifier.pose.early import can_fork, default_parts, stop_now
from workout_classifier.pose.landmarks import PoseSequence, PoseSettings, file_sha256
from workout_classifier.pose.runner import extract_pose

OVERLAP = 8  # sampled frames a helper tracks before its cut (about 0.8 s at 10 fps)
# A helper starts late (opening and seeking the clip, MediaPipe's start; a spawned one also a fresh
# interpreter), so the first chunk is longer than the others by this head start plus the overlap.
# The head start is time, not frames: kept in seconds, turned into frames at the clip's sampled rate.
# Chosen at 10 fps (pose version 5, forked helpers) on a cold `workout predict` of a 5 s clip, 6 runs
# each alternating, median: 0 s -> 1.29 s, 0.3 -> 1.25, 0.5 -> 1.35, 0.65 -> 1.30, 0.8 -> 1.33-1.35,
# 1.33 (the 20 frames at 15 fps chosen before) -> 1.40.
HELPER_START_S = 0.3
HELPER_START = 20  # plan_cuts' default head start, in sampled frames (callers pass their own)
# Helpers forked at the start of the command (early.py), MediaPipe already imported and their
# main-person model started while this process loads the rest, are ready about as soon as it is.
# Cold `workout predict` of a 5 s clip, 10 alternating runs (2026-12-06, load 9, raised priority):
# 0 -> 1.16 s, -0.3 -> 1.19 s, +0.3 -> 1.13 s, within the runs' spread; a timed trace at 0 has the
# helper done 0.03 s before this process.
HELPER_START_EARLY_S = 0.0
MIN_TAIL = 8  # a helper's chunk shorter than this (sampled frames): one process fewer


def plan_cuts(
    frames: int, parts: int, overlap: int = OVERLAP, helper_start: int = HELPER_START
) -> list[int]:
    """Sampled-frame indices where chunks 2..parts begin, so that all processes finish together.

    The first chunk runs at once; each helper starts `helper_start` frames' time late and tracks
    `overlap` frames more than it keeps: first = rest + helper_start + overlap, first + (parts-1)*rest = frames.
    Fewer parts where a helper's chunk would be under MIN_TAIL frames; [] means one graph."""
    while parts > 1:
        rest = (frames - helper_start - overlap) / parts
        if rest >= MIN_TAIL:
            first = frames - (parts - 1) * rest
            return [min(round(first + k * rest), frames) for k in range(parts - 1)]
        parts -= 1
    return []


def _context():
    """Fork where it is safe (early.can_fork), else a fresh interpreter.

    A forked helper is ready sooner (no interpreter start, nothing imported twice), which is most of
    what a helper's late start costs on a 5 s clip."""
    if can_fork():
        return mp.get_context("fork")
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def _drain(q) -> int:
    n = 0
    while True:
        try:
            n += q.get_nowait()
        except queue_mod.Empty:
            return n


def _track(
    path: str, settings: PoseSettings, start: float, stop: float | None, cut: float | None = None
) -> PoseSequence | None:
    """One helper's chunk: frames start <= t < stop through a fresh graph (None: no frames there);
    its decode report counts from `cut` (the warm-up frames are another chunk's)."""
    try:
        on_frames = early.helper_q.put if early.helper_q is not None else None
        return extract_pose(
            path, settings, sha256="-", start=start, stop=stop, count_from=cut, on_frames=on_frames
        )  # its meta is not kept, but for the decode report
    except VideoError:  # a header promising more frames than the file has: an empty chunk
        return None


def extract_pose_split(path: str | Path, settings: PoseSettings = PoseSettings(), overlap: int = OVERLAP,
                       sha256: str | None = None, parts: int | None = None, on_frames=None,
                       on_poses=None) -> PoseSequence:  # fmt: skip
    """Like pose.extract_pose, on `parts` processes (default: every core, at most early.MAX_PARTS).

    `on_frames(n)`: told of sampled frames as every chunk's graph does them (a helper's warm-up
    frames included), as pose.extract_pose tells of its own. `on_poses(so_far)`: as in
    pose.extract_pose, for the first chunk (the clip's start, tracked here).

    Raises VideoError for files that cannot be decoded."""
    path = str(path)
    info = probe(path)
    sampled_fps = min(settings.fps or info.fps, info.fps)
    n = int(
        info.frame_count / sample_stride(info.fps, settings.fps)
    )  # headers can be off; decoding is truth
    parts = parts or default_parts()
    held = early.take(parts - 1)  # helpers started at the command's start, MediaPipe imported
    head_start = HELPER_START_EARLY_S if held is not None else HELPER_START_S
    cut_frames = plan_cuts(n, parts, overlap, round(head_start * sampled_fps))
    if held is not None and not cut_frames:  # a short clip: one graph, the helpers go
        stop_now(held[0])
    # Cuts in seconds, between two sampled frames, so that rounded timestamps never fall on one.
    cuts = [(c - 0.5) / sampled_fps for c in cut_frames]
    warm = overlap / sampled_fps
    if not cuts:
        seq = extract_pose(path, settings, sha256=sha256, on_frames=on_frames, on_poses=on_poses)
        pieces = [seq]
    else:
        if held is None:
            ctx = _context()
            q = ctx.Queue() if on_frames is not None else None
            pool = ProcessPoolExecutor(
                len(cuts), mp_context=ctx, initializer=early.helper_init, initargs=(q,)
            )
        else:  # early helpers always count their frames: read them, told to nobody
            pool, q = held
            on_frames = on_frames or (lambda n: None)
        mine = None if q is None else (lambda n: on_frames(n + _drain(q)))
        try:
            bounds = list(zip(cuts, [*cuts[1:], None], strict=True))
            helpers = [
                pool.submit(_track, path, settings, max(c - warm, 0.0), stop, c)
                for c, stop in bounds
            ]
            sha256 = sha256 or file_sha256(path)  # while the helpers start
            seq = extract_pose(path, settings, sha256=sha256, stop=cuts[0], on_frames=mine,
                               on_poses=on_poses)  # fmt: skip
            pieces = [seq]
            while q is not None:  # the helpers' frames, while they finish
                left = wait(helpers, timeout=0.25).not_done
                on_frames(_drain(q))
                if not left:
                    break
            for (cut, _), helper in zip(bounds, helpers, strict=True):
                part = helper.result()
                if part is not None:
                    keep = part.times >= cut  # the warm-up frames before the cut are dropped
                    pieces.append(PoseSequence(part.landmarks[keep], part.world[keep], part.times[keep],
                                               part.detected[keep], part.meta))  # fmt: skip
        except BaseException:  # Ctrl-C, a cancelled job: helpers stop now, not at their chunk's end
            stop_now(pool)
            raise
        pool.shutdown(wait=True)
    times = np.concatenate([p.times for p in pieces])
    meta = {
        **seq.meta,
        "decoded_frames_sampled": len(times),
        "recovered_frames": sum(p.meta.get("recovered_frames", 0) for p in pieces),
        "decode": merge_reports([p.meta["decode"] for p in pieces if "decode" in p.meta]),
        "split": {
            "parts": len(pieces), "cuts": [round(c, 4) for c in cuts[: len(pieces) - 1]],
            "cut_frames": [int(np.searchsorted(times, c)) for c in cuts[: len(pieces) - 1]], "overlap": overlap,
        },
    }  # fmt: skip
    return PoseSequence(
        landmarks=np.concatenate([p.landmarks for p in pieces]), world=np.concatenate([p.world for p in pieces]),
        times=times, detected=np.concatenate([p.detected for p in pieces]), meta=meta,
    )  # fmt: skip
