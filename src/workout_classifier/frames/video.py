"""Video decoding: probe a file and yield upright frames sampled at a target rate.

PyAV (FFmpeg) decodes. Frames come out the way a player shows them: the
container's rotation (display matrix side data, or the older ``rotate`` tag)
is applied, so a phone clip stored sideways gives upright frames. Times are the
frames' presentation timestamps, so variable-frame-rate clips keep their real
timing. Large frames (4K) are scaled down in the same pass that converts them
to RGB, and frames are decoded one at a time, so memory stays bounded on any
clip length. Frames that are skipped by sampling are decoded but never converted.
Damage does not end a clip: packets the decoder rejects are passed over, and what
could not be read is counted as it decodes (damage.py, `report=`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from workout_classifier.frames.damage import DecodeReport, decode_packets, stated_duration

# Longest side of frames handed to the pose model. BlazePose looks at a 256x256
# crop, so more pixels only cost conversion time; 1280 keeps 720p and smaller
# clips untouched.
MAX_SIDE = 1280
# Sampling rate of extraction and prediction. 10 fps kept grouped accuracy (0.9196 vs 0.9201 at 15 fps over
# five split seeds) and rep counts (MAE no worse on three label files) for 2/3 of the pose time:
# docs/experiments.md. The CLI's --fps defaults repeat it (the CLI imports no OpenCV).
DEFAULT_FPS = 10.0

# Formats FFmpeg opens that are still pictures, not videos (an image renamed .mp4).
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "jpegls_pipe",
                  "gif_pipe", "svg_pipe", "pam_pipe", "ppm_pipe", "pgm_pipe", "qoi_pipe"}  # fmt: skip
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


class VideoError(Exception):
    """A file that cannot be decoded as a video; the message is one line for the user."""


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frame_count: int
    width: int  # as shown, after rotation
    height: int
    rotation: int = 0  # degrees clockwise turned to show the stored frames upright: 0, 90, 180, 270
    codec: str = ""

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "duration": self.duration}


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoError("file not found")
    if not path.is_file():
        raise VideoError("not a file (a folder?)")
    if path.stat().st_size == 0:
        raise VideoError("empty file (0 bytes)")


def _open(path: str | Path):
    """(container, video stream) opened with PyAV; VideoError with one line otherwise."""
    import av

    path = Path(path)
    _check_file(path)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, OSError) as e:
        if looks_like_video(path):
            raise VideoError(
                "unreadable video (corrupt or truncated: no decodable stream)"
            ) from None
        raise VideoError("not a video (the file's content is not a known video container)") from e
    try:
        fmt = container.format.name
        if fmt in _IMAGE_FORMATS:
            kind = fmt.replace("_pipe", "").upper() if fmt != "image2" else "picture"
            raise VideoError(f"not a video (a still {kind} image)")
        if not container.streams.video:
            if container.streams.audio:
                raise VideoError("not a video (audio only: no video track)")
            raise VideoError("not a video (no video track)")
        stream = container.streams.video[0]
        ctx = stream.codec_context  # None where a damaged header names no codec PyAV can open
        if ctx is None:
            raise VideoError("unreadable video (no decoder for its video track)")
        if ctx.width <= 0 or ctx.height <= 0:
            raise VideoError("unreadable video (no picture size)")
        _discard_others(container, stream)
        # One decoding thread: FFmpeg's log is captured (frames/damage.py), and a log line from a
        # decoder thread needs the GIL that the main thread holds while it frees the codec, which
        # deadlocked (seen on an HEVC clip in a test run). Decoding stays far cheaper than the pose
        # model, and prefetch.py overlaps the two anyway.
        stream.codec_context.thread_count = 1
    except BaseException:
        container.close()
        raise
    return container, stream


def _discard_others(container, stream) -> None:
    """Tell the demuxer to drop audio and subtitle packets (we never decode them)."""
    try:
        from av.stream import Discard
    except ImportError:  # older PyAV: the packets are read and ignored
        return
    for other in container.streams:
        if other.index != stream.index:
            other.discard = Discard.all


# Leading bytes of the containers we accept: ISO BMFF (mp4/mov/m4v: 'ftyp' or
# another box at offset 4), RIFF AVI, Matroska/WebM (EBML), MPEG-TS/PS.
_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")


def looks_like_video(path: str | Path) -> bool:
    """True when the file starts like a video container (used only to word error messages)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(189)
    except OSError:
        return False
    return (
        head[4:8] in _BOXES
        or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
        or head[:4] == b"\x1a\x45\xdf\xa3"
        # MPEG-TS: a sync byte every 188 bytes (one alone would match any text starting with "G")
        or (head[:1] == b"\x47" and head[188:189] == b"\x47")
        or head[:4] == b"\x00\x00\x01\xba"
    )


def _tag_rotation(stream) -> int:
    """Clockwise degrees from the older `rotate` tag (Matroska writes it as ROTATE)."""
    for k, v in stream.metadata.items():
        if k.lower() == "rotate":
            try:
                return round(float(v) / 90) * 90 % 360
            except ValueError:
                return 0
    return 0


def _rotation(frame, stream) -> int:
    # PyAV's frame.rotation is the display matrix's counter-clockwise angle (ffprobe's
    # "rotation"; an iPhone portrait clip says -90, i.e. turn 90 degrees clockwise).
    ccw = getattr(frame, "rotation", 0) or 0
    if ccw:
        return round(-ccw / 90) * 90 % 360
    return _tag_rotation(stream)


def _rate(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < float(rate) < 1000:
            return float(rate)
    return 30.0  # missing or absurd rate: assume a common one rather than fail


def _frame_count(container, stream, fps: float) -> int:
    if stream.frames and stream.frames > 0:
        return int(stream.frames)
    # Matroska/WebM headers carry no frame count: estimate it from the duration.
    if stream.duration and stream.time_base:
        return max(round(float(stream.duration * stream.time_base) * fps), 0)
    if container.duration:
        return max(round(container.duration / 1e6 * fps), 0)
    return 0


def _decode(container, stream, report: DecodeReport | None = None) -> Iterator:
    """Decoded frames. Packets the decoder rejects are passed over and counted in `report`
    (damage.py), so a damaged or truncated file keeps what can be read; a file of which not one
    frame decodes is a VideoError."""
    import av

    try:
        yield from decode_packets(container, stream, report)
    except av.FFmpegError as e:
        raise VideoError(
            f"unreadable video (cannot decode {stream.codec_context.name}: {e.strerror})"
        ) from None


def _shown_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    return (height, width) if rotation in (90, 270) else (width, height)


def _open_info(path: str | Path, report: DecodeReport | None = None):
    """Open a clip and decode its first frame: (info, container, stream, frames iterator)."""
    container, stream = _open(path)
    try:
        frames = _decode(container, stream, report)
        first = next(frames, None)
        if first is None:
            raise VideoError("no frames could be decoded (empty or truncated video)")
        fps = _rate(stream)
        rotation = _rotation(first, stream)
        w, h = _shown_size(first.width, first.height, rotation)
        info = VideoInfo(
            fps=fps, frame_count=_frame_count(container, stream, fps), width=w, height=h,
            rotation=rotation, codec=stream.codec_context.name,
        )  # fmt: skip
    except BaseException:
        container.close()
        raise

    def chain():
        yield first
        yield from frames

    return info, container, stream, chain()


def probe(path: str | Path) -> VideoInfo:
    """Header facts of a clip, sizes as shown. Frame counts from headers can be off; decoding is truth."""
    info, container, _, _ = _open_info(path)
    container.close()
    return info


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
    info, container, stream, frames = _open_info(path, report)
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
        resumed = _decode(container, stream, report)
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
                _, container, stream, frames = _open_info(container.name, report)
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
    info, container, stream, frames = _open_info(path, report)
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
