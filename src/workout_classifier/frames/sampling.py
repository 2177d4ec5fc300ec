"""Sampled frames: yield upright frames of a clip at a target rate (video.py opens it).

Frames come out the way a player shows them: the container's rotation (read by video.py) is
applied, so a phone clip stored sideways gives upright frames. Times are the frames'
presentation timestamps, so variable-frame-rate clips keep their real timing. Large frames (4K)
are scaled down in the same pass that converts them to RGB, and frames are decoded one at a
time, so memory stays bounded on any clip length. Frames that are skipped by sampling are
decoded but never converted. A chunk of a long clip seeks near its start instead of decoding
its way there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from workout_classifier.frames.damage import DecodeReport, stated_duration
from workout_classifier.frames.video import VideoError, VideoInfo, decode_frames, open_clip

# Longest side of frames handed to the pose model. BlazePose looks at a 256x256
# crop, so more pixels only cost conversion time; 1280 keeps 720p and smaller
# clips untouched.
MAX_SIDE = 1280
# Sampling rate of extraction and prediction. 10 fps kept grouped accuracy (0.9196 vs 0.9201 at 15 fps over
# five split seeds) and rep counts (MAE no worse on three label files) for 2/3 of the pose time:
# docs/experiments.md. The CLI's --fps defaults repeat it (the CLI imports no OpenCV).
DEFAULT_FPS = 10.0

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def sample_stride(source_fps: float, target_fps: float | None) -> float:
    """Source frames per sampled frame; never below 1 (we never invent frames)."""
    if not target_fps or target_fps <= 0 or target_fps >= source_fps:
        return 1.0
    return source_fps / target_fps


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) with the longest side at most `max_side`, aspect kept, even when scaled."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    s = max_side / max(width, height)
    return max(2, round(width * s / 2) * 2), max(2, round(height * s / 2) * 2)


def open_frames(
    path: str | Path,
    target_fps: float | None = DEFAULT_FPS,
    rgb: bool = True,
    max_side: int | None = MAX_SIDE,
    start: float = 0.0,
    stop: float | None = None,
    report: DecodeReport | None = None,
) -> tuple[VideoInfo, Iterator[tuple[float, np.ndarray]]]:
    """Open a clip once: its info and an iterator over its sampled, upright frames.

    Frames are (time in seconds from the first frame, (H, W, 3) uint8), H and W
    as shown and scaled so that neither exceeds `max_side` (None: full size).
    Only frames with start <= time < stop come out (a chunk of a long clip): the
    same frames, with the same times, as a decode from the start would give there;
    far from the start the decoder seeks to a key frame before `start` instead of
    decoding its way there. Raises VideoError at once for files that cannot be opened.
    `report` (damage.DecodeReport) is told, as frames go, what could not be decoded in that part.
    """
    info, container, stream, frames = open_clip(path, report)
    return info, _sampled(container, stream, frames, info, target_fps, rgb, max_side, start, stop,
                          report)  # fmt: skip


# A chunk starting later than this seeks (decoding that far costs more than a seek).
SEEK_AFTER = 2.0
# Seek this far before a chunk's start, so that the frame before its first one is decoded: whether a
# frame is sampled depends on its own and its predecessor's time only, so the clock is exact from there.
_SEEK_MARGIN = 0.5


def _seek(container, stream, frames, start: float, report: DecodeReport | None = None):
    """Seek to a key frame before `start` s (from the first frame, which `frames` yields next).

    Returns (first frame's absolute time, iterator of frames from the key frame) or None where the
    file has no timestamps, cannot seek, or seeks past the point (the caller then decodes through)."""
    import av

    first = next(frames, None)
    if first is None or first.time is None or not stream.time_base:
        return None
    t0 = first.time
    try:
        container.seek(
            max(int((t0 + start - _SEEK_MARGIN) / stream.time_base), 0),
            stream=stream,
            backward=True,
        )
        resumed = decode_frames(container, stream, report)
        head = next(resumed, None)
    except (av.FFmpegError, VideoError):
        return None
    if head is None or head.time is None or head.time - t0 >= start - _SEEK_MARGIN / 2:
        return None

    def chain():
        yield head
        yield from resumed

    return t0, chain()


def _sampled(
    container,
    stream,
    frames,
    info: VideoInfo,
    target_fps,
    rgb: bool,
    max_side,
    start=0.0,
    stop=None,
    report: DecodeReport | None = None,
    pixels: bool = True,
):
    # A frame is kept when its presentation time reaches the next tick of the
    # sampled clock; ticks with no frame (gaps in variable-rate clips) are passed
    # over, never made up. Times of frames without timestamps fall back to the
    # nominal rate, and never go backwards.
    period = 1.0 / target_fps if target_fps and target_fps > 0 and target_fps < info.fps else 0.0
    slack = 0.25 / info.fps  # timestamps are rounded to the container's time base
    fmt = "rgb24" if rgb else "bgr24"
    turn = _ROTATE.get(info.rotation)
    if report is not None:
        report.start(info.fps, stated_duration(container, stream) or info.duration)
    try:
        t0, last, next_t, seeked = None, -1.0, 0.0, None
        if start >= SEEK_AFTER:
            seeked = _seek(container, stream, frames, start, report)
            if seeked is None:  # decode through from the first frame, on a fresh opening
                container.close()
                _, container, stream, frames = open_clip(container.name, report)
            else:
                t0, frames = seeked
        for i, frame in enumerate(frames):
            t = frame.time
            if t is None:
                t = i / info.fps + (t0 or 0.0) if seeked is None else last + 1.0 / info.fps + t0
            if t0 is None:
                t0 = t
            t -= t0
            if seeked is not None and i == 0:
                # The first frame after a seek: where the clock stands after it is known (the first tick
                # past it), whether or not a decode from the start would keep it; it is before `start`.
                last = t
                while period and next_t <= t + slack:
                    next_t += (
                        period  # added up tick by tick, as below, so ticks are the same floats
                    )
                continue
            if t <= last:  # broken or repeated timestamps
                t = last + 1.0 / info.fps
            last = t
            if stop is not None and t >= stop:
                break
            if report is not None:
                report.frame(t, frame.is_corrupt, counted=t >= start)
            if period and t + slack < next_t:
                continue
            while period and next_t <= t + slack:
                next_t += period
            if t < start:
                continue
            if not pixels:
                yield t, None
                continue
            sw, sh = scaled_size(frame.width, frame.height, max_side)
            if (sw, sh) == (frame.width, frame.height):
                img = frame.to_ndarray(format=fmt)
            else:
                img = frame.to_ndarray(format=fmt, width=sw, height=sh, interpolation="AREA")
            if turn is not None:
                img = cv2.rotate(img, turn)
            yield t, img
        if report is not None:
            report.finish(t0, start, stop)
    finally:
        container.close()


def decode_report(path: str | Path) -> dict:
    """Decode every frame of a clip (no pictures made) and say what could not be read (damage.py).

    For clips whose poses were extracted before extraction kept this; raises VideoError like open_frames."""
    report = DecodeReport()
    info, container, stream, frames = open_clip(path, report)
    for _ in _sampled(
        container, stream, frames, info, None, True, None, report=report, pixels=False
    ):
        pass
    return report.to_dict()


def iter_frames(
    path: str | Path,
    target_fps: float | None = DEFAULT_FPS,
    rgb: bool = True,
    max_side: int | None = MAX_SIDE,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (time in seconds, upright frame (H, W, 3) uint8) at about `target_fps`."""
    _, frames = open_frames(path, target_fps, rgb, max_side)
    yield from frames


def read_all_frames(path: str | Path, target_fps: float | None = None, rgb: bool = True):
    """Decode the sampled frames into a list (for benchmarks and small clips)."""
    return list(iter_frames(path, target_fps, rgb=rgb))
