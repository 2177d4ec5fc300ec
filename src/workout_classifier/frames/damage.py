"""What the decoder could not read of a clip: counted while it decodes, said in short sentences.

A damaged file (bits flipped, a block zeroed, cut short) still decodes in part: FFmpeg skips
what it cannot read, conceals broken pictures with parts of their neighbours, and says so in its
error log. `decode_packets` is the decode loop of video.py: it sends the clip packet by packet, a
packet FFmpeg rejects is counted and passed over (the decode goes on, as FFmpeg's own player
does, so that a flipped bit no longer ends the clip), and FFmpeg's error messages are captured
(av.logging) instead of dropped. `DecodeReport` turns that into facts about the clip, all in the
sampled clock of sampling.py (seconds from the first frame), within the part a decode covers:

- ``frames``: frames decoded; ``damaged``: those the decoder flagged corrupt or logged errors on
  (concealed); ``lost``: frames never decoded (rejected packets, gaps in the timestamps);
- ``spans``: where the damaged and lost frames are, merged into [start, end] stretches;
- ``read_s`` / ``stated_s``: how far the decode got, and the duration the header states
  (``truncated`` when the file ends well before it: a cut-short download); ``head_lost_s``:
  the stretch before the first frame that could be decoded (its frames are lost; times, here
  and in every answer, count from that first frame).

A clean clip gives zero damaged and lost frames (bench/damaged.py checks every clip of
../shared/data). `warnings` says the facts in sentences, and `too_damaged` says when an answer
must not be trusted at all.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

# Above this share of damaged or lost frames (of those the clip should have up to where it could
# be read), an answer is `unknown`: more of the clip is broken than whole. A cut-short file is
# judged on what it has: its missing end is not damage. Chosen on bench/damaged.py (6 real clips,
# shipped model; the 54 copies with bits flipped, a block zeroed or thirds swapped that decoded):
# at 25-50% damaged, 11 of 13 best guesses were right (a limit of 25% withheld them); above 50%,
# 8 of 17 were wrong, 2 of them at confidence >= 0.5.
MAX_DAMAGED_SHARE = 0.5
# A gap between two frames' timestamps longer than this many nominal frame periods is lost
# frames (variable-frame-rate phone clips stretch a period, but not this far: bench/damaged.py).
GAP_PERIODS = 2.5
# A file whose frames end earlier than this before its stated duration was cut short (headers
# round durations, and the last frame starts one period before the end).
TRUNCATED_S = 0.5
# Frames before the end of a cut-short file whose errors (and rejected packets) are the cut's: the
# last packets are partial, and a decoder still holds a few frames when they fail.
CUT_FRAMES = 5
# Consecutive packets the decoder rejects before a decode gives up on the rest of the file
# (random bytes after a good start would otherwise be fed to it to the end).
MAX_REJECTED_RUN = 1000


@dataclass
class DecodeReport:
    """Filled in by one decode (video.open_frames(report=...)); `to_dict` is stored in pose meta."""

    frames: int = 0
    damaged: int = 0
    lost: int = 0
    errors: int = 0  # decoder error messages
    read_s: float = 0.0  # seconds from the first frame to the end of the last one decoded
    head_lost_s: float = (
        0.0  # seconds before the first frame that could be decoded (times count from it)
    )
    stated_s: float = 0.0
    truncated: bool = False
    spans: list[list[float]] = field(default_factory=list)
    # Frames before this time (s) are decoded but not counted: a chunk's warm-up (pose.split).
    count_from: float = 0.0
    # while decoding
    _pending: int = 0  # error messages since the last frame came out
    _rejected: list = field(default_factory=list)  # absolute times of rejected packets
    _bad: list = field(default_factory=list)  # times of damaged frames
    _gaps: list = field(default_factory=list)  # [start, end] of timestamp gaps
    _last: float | None = None
    _period: float = 0.0

    def start(self, fps: float, stated_s: float) -> None:
        self._period = 1.0 / fps if fps > 0 else 0.0
        self.stated_s = round(float(stated_s), 3)

    # -- called by the decode loop --
    def logged(self, n: int) -> None:
        self.errors += n
        self._pending += n

    def rejected(self, when: float | None) -> None:
        self._rejected.append(when)

    def frame(self, t: float, corrupt: bool, counted: bool) -> None:
        """One decoded frame at `t` s; `counted`: inside the part this decode covers."""
        bad = corrupt or self._pending > 0
        self._pending = 0
        if counted and t >= self.count_from:
            if (
                self._last is not None
                and self._period
                and t - self._last > GAP_PERIODS * self._period
            ):
                n = round((t - self._last) / self._period) - 1
                self.lost += n
                self._gaps.append([self._last + self._period, t - self._period, n])
            self.frames += 1
            if bad:
                self._bad.append(t)
            self.read_s = max(self.read_s, t + self._period)
        self._last = t

    def finish(self, t0: float | None, start: float, stop: float | None) -> None:
        """After the last frame: place the rejected packets (absolute times) in the covered part."""
        half = self._period / 2
        start = max(start, self.count_from)
        spans = [g[:2] for g in self._gaps]
        tail = []  # rejected after the last frame: the cut of a cut-short file, or an unreadable rest
        inner = []  # rejected among the decoded frames
        for when in self._rejected:
            t = None if when is None or t0 is None else when - t0
            if t is not None and t < 0 and start == 0:  # before the first frame: the clip's head
                self.head_lost_s = max(self.head_lost_s, round(-t, 3))
                continue
            if t is None or t < start or (stop is not None and t >= stop):
                continue  # outside this part
            if t > self.read_s - half:
                tail.append(t)
            elif not any(
                a - half <= t <= b + half for a, b, _ in self._gaps
            ):  # else counted in its gap
                inner.append(t)
        self.errors -= self._pending  # logged after the last frame: the cut of a cut-short file
        # Lost stretches count the frames their time holds: the decoder rejects some of their
        # packets and swallows the rest (no picture without the key frame they refer to).
        if self.head_lost_s:
            self.lost += max(1, self._frames_in(self.head_lost_s))
        if len(tail) > CUT_FRAMES:  # more than a partial last packet: the rest is there, unreadable
            self.lost += max(len(tail), self._frames_in(max(tail) - self.read_s) + 1)
            spans.append([self.read_s, max(tail)])
        elif self.stated_s > 0 and (stop is None or self.read_s < stop - 2 * self._period):
            # the decode ran out before the end of its part: the end of the file
            self.truncated = self.stated_s - (self.head_lost_s + self.read_s) > TRUNCATED_S
        cut = self.read_s - (CUT_FRAMES + 1) * self._period if self.truncated else float("inf")
        inner = [t for t in inner if t < cut]  # just before the cut: the partial last packets
        for a, b, n in self._gaps:  # ... and the frames a decoder drops there
            if a >= cut:
                self.lost -= n
                spans.remove([a, b])
        self.lost += len(inner)
        spans += [[t, t] for t in inner]
        bad = [t for t in self._bad if t < cut]
        self.damaged = len(bad)
        spans += [[t, t] for t in bad]
        self.spans = [[round(a, 3), round(b, 3)] for a, b in merge_spans(spans, self._period)]
        self._rejected, self._bad, self._gaps, self._pending = [], [], [], 0

    def _frames_in(self, seconds: float) -> int:
        return round(seconds / self._period) if self._period else 0

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if not k.startswith("_") and k != "count_from"}
        d["read_s"] = round(self.read_s, 3)
        return d


def stated_duration(container, stream) -> float:
    """The duration the header states, 0 where it states none (a cut-short file states the whole)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / 1e6 if container.duration else 0.0


def merge_spans(spans: list[list[float]], period: float = 0.0) -> list[list[float]]:
    """Sorted stretches, those closer than two frame periods joined."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] <= 2 * period + 1e-6:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def merge_reports(parts: list[dict]) -> dict:
    """One report from the reports of a clip's chunks (pose.split), each over its own part."""
    if not parts:
        return {}
    out = {k: sum(p.get(k, 0) for p in parts) for k in ("frames", "damaged", "lost", "errors")}
    read, stated = max(p.get("read_s", 0.0) for p in parts), parts[0].get("stated_s", 0.0)
    head = parts[0].get("head_lost_s", 0.0)
    # A chunk past the end of a cut-short file has no frames and no report: how far the decode got
    # says it, whichever chunk got there.
    out.update(read_s=read, head_lost_s=head, stated_s=stated,
               truncated=stated > 0 and stated - (head + read) > TRUNCATED_S,
               spans=merge_spans([s for p in parts for s in p.get("spans", [])]))  # fmt: skip
    return out


# ---- FFmpeg's error log ------------------------------------------------------------------------
_log_lock = threading.Lock()
_log_users = 0
_log_capture = None
_logs: list = []
_level_before = None


@contextlib.contextmanager
def decoder_errors():
    """FFmpeg's error messages while the block runs, as a list that grows (level, name, message).

    PyAV drops FFmpeg's log unless a level is set, and its capture is process-wide (the decoder's
    own threads log too): while any block is open, every error message of the process lands in
    the list of each open block. The package decodes one clip at a time per process (extraction
    workers, split helpers and server workers are processes), so messages belong to that clip.
    """
    import av.logging

    global _log_users, _log_capture, _logs, _level_before
    with _log_lock:
        if _log_users == 0:
            _level_before = av.logging.get_level()  # None unless the application set one
            _log_capture = av.logging.Capture(local=False)
            _logs = _log_capture.__enter__()
            av.logging.set_level(av.logging.ERROR)
        _log_users += 1
        logs = _logs
    try:
        yield logs
    finally:
        with _log_lock:
            _log_users -= 1
            if _log_users == 0:
                # before the capture goes, so that nothing reaches the terminal in between
                av.logging.set_level(_level_before)
                _log_capture.__exit__(None, None, None)
                _log_capture = None


def decode_packets(container, stream, report: DecodeReport | None) -> Iterator:
    """Every frame FFmpeg can decode, in order; rejected packets and error messages go to `report`.

    Raises the first av.FFmpegError when not a single frame could be decoded."""
    import av

    first_error = None
    got = False
    run = 0
    with decoder_errors() as logs:
        seen = len(logs)
        for packet in container.demux(stream):
            try:
                frames = stream.decode(packet)
                run = 0
            except av.EOFError:
                break
            except av.FFmpegError as e:
                first_error = first_error or e
                frames = []
                run += 1
                if report is not None:
                    pts = packet.pts if packet.pts is not None else packet.dts
                    tb = packet.time_base or stream.time_base
                    report.rejected(float(pts * tb) if pts is not None and tb else None)
                if run >= MAX_REJECTED_RUN:
                    break
            for frame in frames:
                if report is not None and len(logs) > seen:
                    report.logged(len(logs) - seen)
                seen = len(logs)
                got = True
                yield frame
        if report is not None and len(logs) > seen:
            report.logged(len(logs) - seen)
    if not got and first_error is not None:
        raise first_error


# ---- in words ------------------------------------------------------------------------------------
def damaged_share(report: dict) -> float:
    """Damaged and lost frames over the frames the read part of the clip should have."""
    bad = report.get("damaged", 0) + report.get("lost", 0)
    total = report.get("frames", 0) + report.get("lost", 0)
    return bad / total if total else 0.0


def too_damaged(report: dict | None) -> bool:
    return bool(report) and damaged_share(report) > MAX_DAMAGED_SHARE


def person_damaged_share(report: dict | None, times, detected) -> float:
    """Share of the sampled frames showing the person (``detected``, at ``times``) that fall in a
    damaged stretch: damage that hits the exercise, not only the share of the whole file."""
    spans = (report or {}).get("spans") or []
    seen = [t for t, d in zip(times, detected, strict=True) if d]
    if not spans or not seen:
        return 0.0
    hit = sum(any(a - 0.05 <= t <= b + 0.05 for a, b in spans) for t in seen)
    return hit / len(seen)


def where(spans: list) -> str:
    """Stretches in words: "at 1.9-4.0 s, 6.2 s", or "in 57 places between 0.0 and 7.9 s"."""
    if len(spans) > 3:
        return f"in {len(spans)} places between {spans[0][0]:.1f} and {spans[-1][1]:.1f} s"
    return "at " + ", ".join(
        f"{a:.1f} s" if b - a < 0.05 else f"{a:.1f}-{b:.1f} s" for a, b in spans
    )


def warnings_within(report: dict | None, start: float, end: float) -> list[str]:
    """The warning of a part of a clip (a rep, a timeline segment) that overlaps damaged frames."""
    inside = [[a, b] for a, b in (report or {}).get("spans", []) if a <= end and b >= start]
    return [f"frames {where(inside)} could not be decoded"] if inside else []


def warnings(report: dict | None) -> list[str]:
    """Short sentences about what could not be read; [] for a clean clip (or no report)."""
    if not report:
        return []
    out = []
    bad = report.get("damaged", 0) + report.get("lost", 0)
    if bad:
        total = report.get("frames", 0) + report.get("lost", 0)
        places = [where(report["spans"])] if report.get("spans") else []
        if report.get("head_lost_s"):
            places.insert(
                0, f"the first {report['head_lost_s']:.1f} s, before the times given here"
            )
        out.append(f"{bad} of {total} frames could not be decoded ({'; '.join(places)}); "
                   "the answer may be wrong")  # fmt: skip
    if report.get("truncated"):
        out.append(
            f"only {report.get('read_s', 0):.1f} s of the stated {report.get('stated_s', 0):.1f} s "
            "could be read (the file is cut short); the answer is about that part"
        )
    if too_damaged(report):
        out.append(
            f"more than {MAX_DAMAGED_SHARE:.0%} of the frames are damaged: no exercise is named"
        )
    return out
