"""Video files: open a clip with PyAV (FFmpeg), refuse what is not a video with one clear line
(``VideoError``), read its header facts (``probe``) and decode its frames.

The rotation a player would apply is read here (display matrix side data, or the older
``rotate`` tag), so sizes are as shown. Damage does not end a clip: packets the decoder rejects
are passed over, and what could not be read is counted as it decodes (damage.py, `report=`).
Choosing the sampled frames and making upright RGB pictures of them is sampling.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from workout_classifier.frames.damage import DecodeReport, decode_packets

# Formats FFmpeg opens that are still pictures, not videos (an image renamed .mp4).
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "jpegls_pipe",
                  "gif_pipe", "svg_pipe", "pam_pipe", "ppm_pipe", "pgm_pipe", "qoi_pipe"}  # fmt: skip


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


def decode_frames(container, stream, report: DecodeReport | None = None) -> Iterator:
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


def open_clip(path: str | Path, report: DecodeReport | None = None):
    """Open a clip and decode its first frame: (info, container, stream, frames iterator)."""
    container, stream = _open(path)
    try:
        frames = decode_frames(container, stream, report)
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
    info, container, _, _ = open_clip(path)
    container.close()
    return info
