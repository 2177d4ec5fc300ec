"""Video decoding: probe a file and yield frames sampled at a target rate.

OpenCV (from mediapipe's opencv-contrib wheel) decodes; frames that are
skipped are only grabbed, not converted, which keeps sampling cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np


class VideoError(Exception):
    """A file that cannot be decoded as a video; the message is one line for the user."""


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frame_count: int
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "duration": self.duration}


def _open(path: str | Path) -> cv2.VideoCapture:
    path = Path(path)
    if not path.exists():
        raise VideoError("file not found")
    if not path.is_file():
        raise VideoError("not a file (a folder?)")
    if path.stat().st_size == 0:
        raise VideoError("empty file (0 bytes)")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        if looks_like_video(path):
            raise VideoError("unreadable video (corrupt or truncated: no decodable stream)")
        raise VideoError("not a video (the file's content is not a known video container)")
    return cap


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


def _info(cap: cv2.VideoCapture) -> VideoInfo:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not (0 < fps < 1000):
        fps = 30.0  # missing or absurd rate: assume a common one rather than fail
    info = VideoInfo(
        fps=fps,
        frame_count=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0),
        width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
        height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
    )
    if info.width <= 0 or info.height <= 0:
        raise VideoError("not a video or unreadable (no picture size)")
    return info


def probe(path: str | Path) -> VideoInfo:
    """Read the container's header. Frame counts from headers can be off; decoding is truth."""
    cap = _open(path)
    try:
        return _info(cap)
    finally:
        cap.release()


def sample_stride(source_fps: float, target_fps: float | None) -> float:
    """Source frames per sampled frame; never below 1 (we never invent frames)."""
    if not target_fps or target_fps <= 0 or target_fps >= source_fps:
        return 1.0
    return source_fps / target_fps


def open_frames(
    path: str | Path, target_fps: float | None = 15.0, rgb: bool = True
) -> tuple[VideoInfo, Iterator[tuple[float, np.ndarray]]]:
    """Open a clip once: its header info and an iterator over its sampled frames.

    Raises VideoError at once for files that cannot be opened.
    """
    cap = _open(path)
    try:
        info = _info(cap)
    except BaseException:
        cap.release()
        raise
    return info, _sampled(cap, info, sample_stride(info.fps, target_fps), rgb)


def _sampled(cap: cv2.VideoCapture, info: VideoInfo, stride: float, rgb: bool):
    # A frame is kept whenever the sampled clock passes the next tick, so rates
    # that do not divide the source rate still come out evenly spaced. Skipped
    # frames are only grabbed (decoded, never converted).
    try:
        index, next_keep = 0, 0.0
        while True:
            if index + 1e-6 >= next_keep:
                ok, frame = cap.read()
                if not ok:
                    break
                next_keep += stride
                yield index / info.fps, (cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if rgb else frame)
            elif not cap.grab():
                break
            index += 1
    finally:
        cap.release()


def iter_frames(
    path: str | Path, target_fps: float | None = 15.0, rgb: bool = True
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (time in seconds, frame (H, W, 3) uint8) at about `target_fps`."""
    _, frames = open_frames(path, target_fps, rgb)
    yield from frames


def prefetch(items: Iterator, depth: int = 4) -> Iterator:
    """Run `items` in a background thread, `depth` items ahead of the consumer.

    OpenCV decodes without holding the GIL, so the next frames are decoded while
    the caller runs the pose model on this one. Errors raised by `items` come out
    of this iterator; closing it (or an exception in the consumer) stops the thread.
    depth <= 0 returns `items` unchanged.
    """
    if depth <= 0:
        yield from items
        return
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put((None, item)):
                    return
            put((None, end))
        except BaseException as e:  # handed to the consumer
            put((e, None))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # releases the capture if we stopped early

    worker = threading.Thread(target=run, name="frame-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            err, item = q.get()
            if err is not None:
                raise err
            if item is end:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def read_all_frames(path: str | Path, target_fps: float | None = None, rgb: bool = True):
    """Decode the sampled frames into a list (for benchmarks and small clips)."""
    return list(iter_frames(path, target_fps, rgb=rgb))
