"""Probing and frame sampling on generated clips, and clear errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import UNICODE_NAME, truncate_half, write_video

from workout_classifier.frames.prefetch import prefetch
from workout_classifier.frames.sampling import (
    iter_frames,
    open_frames,
    read_all_frames,
    sample_stride,
)
from workout_classifier.frames.video import VideoError, probe


def test_probe_reads_header(synthetic_dataset):
    info = probe(synthetic_dataset / "squat" / "clip_a.mp4")
    assert (info.width, info.height, info.frame_count) == (160, 120, 30)
    assert info.fps == pytest.approx(30)
    assert info.duration == pytest.approx(1.0)
    p = probe(synthetic_dataset / "push up" / "portrait.mp4")
    assert (p.width, p.height) == (120, 160)


def test_unicode_and_spaces_in_name(synthetic_dataset):
    frames = read_all_frames(synthetic_dataset / "squat" / UNICODE_NAME, None)
    assert len(frames) == 20


@pytest.mark.parametrize(
    "stride_in, expected",
    [((30, 15), 2.0), ((30, 10), 3.0), ((25, 30), 1.0), ((30, None), 1.0), ((30, 0), 1.0)],
)
def test_sample_stride(stride_in, expected):
    assert sample_stride(*stride_in) == pytest.approx(expected)


def test_30fps_at_15_gives_half(tmp_path):
    clip = write_video(tmp_path / "c.mp4", frames=60, fps=30)
    frames = read_all_frames(clip, 15)
    assert abs(len(frames) - 30) <= 1
    times = np.array([t for t, _ in frames])
    assert np.allclose(np.diff(times), 1 / 15, atol=1e-6)
    assert frames[0][1].shape == (120, 160, 3) and frames[0][1].dtype == np.uint8


def test_uneven_rate_is_evenly_spaced(tmp_path):
    clip = write_video(tmp_path / "c.mp4", frames=50, fps=25)
    frames = read_all_frames(clip, 10)
    assert abs(len(frames) - 20) <= 1
    gaps = np.diff([t for t, _ in frames])
    assert gaps.min() >= 0.08 - 1e-6 and gaps.max() <= 0.12 + 1e-6


@pytest.mark.parametrize("target", [None, 30, 60, 1000])
def test_never_more_frames_than_the_clip_has(tmp_path, target):
    clip = write_video(tmp_path / "c.mp4", frames=24, fps=24)
    assert len(read_all_frames(clip, target)) == 24


def test_one_frame_clip(tmp_path):
    clip = write_video(tmp_path / "one.mp4", frames=1, fps=30)
    frames = read_all_frames(clip, 15)
    assert len(frames) == 1 and frames[0][0] == 0.0


def test_rgb_and_bgr(tmp_path):
    clip = write_video(tmp_path / "c.mp4", frames=2, fps=10)
    (_, rgb), (_, bgr) = next(iter_frames(clip, None)), next(iter_frames(clip, None, rgb=False))
    assert np.array_equal(rgb, bgr[..., ::-1])


def test_bad_files_raise_one_line_video_errors(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "text.mp4"
    text.write_text("hello\n" * 100)
    trunc = truncate_half(write_video(tmp_path / "trunc.mp4", frames=60, fps=30))
    cases = {
        empty: "empty file",
        text: "not a video",
        trunc: "unreadable",
        tmp_path / "missing.mp4": "not found",
        tmp_path: "not a file",
    }
    for path, words in cases.items():
        with pytest.raises(VideoError) as e:
            probe(path)
        assert words in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(VideoError):
            list(iter_frames(path))


def test_open_frames_gives_header_and_frames_from_one_open(synthetic_dataset):
    clip = synthetic_dataset / "push up" / "portrait.mp4"
    info, frames = open_frames(clip, 10)
    assert info == probe(clip)
    got = list(frames)
    assert abs(len(got) - 10) <= 1 and got[0][1].shape == (160, 120, 3)
    with pytest.raises(VideoError):
        open_frames(synthetic_dataset / "nope.mp4")  # raised at once, not on first next()


def test_prefetch_keeps_order_and_passes_errors():
    import threading

    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))
    assert list(prefetch(iter(range(5)), depth=0)) == list(range(5))

    def boom():
        yield 1
        raise VideoError("broken in the middle")

    it = prefetch(boom(), depth=2)
    assert next(it) == 1
    with pytest.raises(VideoError, match="broken in the middle"):
        next(it)

    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    it = prefetch(endless(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()  # the consumer stops early: the thread ends and the source is closed
    assert closed == [True]
    assert not [t for t in threading.enumerate() if t.name == "frame-prefetch"]


def test_prefetched_frames_equal_inline_frames(tmp_path):
    clip = write_video(tmp_path / "c.mp4", frames=30, fps=30)
    inline = read_all_frames(clip, 15)
    _, frames = open_frames(clip, 15)
    ahead = list(prefetch(frames, depth=4))
    assert len(ahead) == len(inline)
    assert all(
        a[0] == b[0] and np.array_equal(a[1], b[1]) for a, b in zip(ahead, inline, strict=True)
    )
