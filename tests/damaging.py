"""Damaged copies of a clip for tests (issue 28): bits flipped and a block zeroed inside the picture
data (the mp4 `mdat` box, so that the header still opens), and a clean cut of a clip whose header
comes first (faststart), which is what a download cut short looks like."""

from __future__ import annotations

import random
import struct
from pathlib import Path


def mdat_range(data: bytes) -> tuple[int, int]:
    """(start, end) of the payload of the top-level `mdat` box of an mp4."""
    at = 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        elif size == 0:
            size = len(data) - at
        if kind == b"mdat":
            return at + head, at + size
        at += size
    raise ValueError("no mdat box")


def zero_block(src: Path, dst: Path, share: float = 0.2, where: float = 0.4) -> Path:
    """A copy with `share` of its picture data zeroed, starting `where` of the way into it."""
    data = bytearray(Path(src).read_bytes())
    a, b = mdat_range(data)
    at, n = a + int((b - a) * where), int((b - a) * share)
    data[at : at + n] = bytes(n)
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def flip_bits(src: Path, dst: Path, bits: int = 40, seed: int = 0) -> Path:
    """A copy with `bits` random bits of its picture data flipped (past its first tenth)."""
    data = bytearray(Path(src).read_bytes())
    a, b = mdat_range(data)
    rng = random.Random(seed)
    for _ in range(bits):
        i = rng.randrange(a + (b - a) // 10, b)
        data[i] ^= 1 << rng.randrange(8)
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def faststart(src: Path, dst: Path) -> Path:
    """The same packets with the header (moov) before the picture data, as streamed clips have it."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as out:
        s_in = inp.streams.video[0]
        s_out = out.add_stream_from_template(s_in)
        for pkt in inp.demux(s_in):
            if pkt.dts is None:
                continue
            pkt.stream = s_out
            out.mux(pkt)
    return Path(dst)


def cut(src: Path, dst: Path, share: float = 0.5) -> Path:
    """The first `share` of the file's bytes: a download cut short."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * share)])
    return Path(dst)
