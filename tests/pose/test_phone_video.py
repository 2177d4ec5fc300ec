"""Phone videos: rotation tags, presentation timestamps, the formats people have,
4K frames, and one-line errors for files that are not videos."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from avclips import stored_for, upright_pattern, write_clip
from conftest import real_clip

from workout_classifier.frames.sampling import iter_frames, open_frames, read_all_frames
from workout_classifier.frames.video import VideoError, probe
from workout_classifier.pose.landmarks import PoseSettings
from workout_classifier.pose.runner import extract_pose

W, H = 48, 64  # an upright portrait picture, as a phone shows it


def _upright_frames(n: int = 6) -> list[np.ndarray]:
    return [upright_pattern(W, H, i) for i in range(n)]


def _close(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


@pytest.mark.parametrize("ccw", [90, 180, -90, 270])
def test_display_matrix_rotation_gives_upright_frames(tmp_path, ccw):
    up = _upright_frames()
    clip = write_clip(tmp_path / "r.mp4", [stored_for(f, ccw) for f in up], display_rotation=ccw)
    info = probe(clip)
    assert (info.width, info.height) == (W, H)  # as shown, not as stored
    assert info.rotation == (-ccw) % 360
    got = read_all_frames(clip)
    assert len(got) == len(up)
    for (_, img), ref in zip(got, up, strict=True):
        assert img.shape == (H, W, 3)
        assert _close(img, ref) < 8  # lossy codec noise only
        # and it is really turned: the stored picture read as is would differ a lot
    assert _close(cv2.resize(stored_for(up[0], ccw), (W, H)), up[0]) > 40


def test_older_rotate_tag_is_honoured(tmp_path):
    up = _upright_frames()
    # Matroska keeps a `rotate` tag (clockwise degrees), as older tools wrote it.
    clip = write_clip(tmp_path / "r.mkv", [stored_for(f, -90) for f in up], rotate_tag=90)
    info = probe(clip)
    assert (info.width, info.height, info.rotation) == (W, H, 90)
    (_, img), *_ = read_all_frames(clip)
    assert _close(img, up[0]) < 8


def test_stats_and_extraction_give_sizes_as_shown(tmp_path):
    from workout_classifier.learn.stats import collect

    up = _upright_frames(12)
    write_clip(
        tmp_path / "data" / "squat" / "phone.mp4",
        [stored_for(f, -90) for f in up],
        display_rotation=-90,
    )
    (st,), problems = collect(tmp_path / "data")
    assert (st.width, st.height, st.rotation, st.codec, st.problem) == (W, H, 90, "h264", "")
    seq = extract_pose(tmp_path / "data" / "squat" / "phone.mp4", PoseSettings(fps=None))
    assert (seq.meta["width"], seq.meta["height"], seq.meta["rotation"]) == (W, H, 90)
    assert seq.num_frames == 12 and not seq.detected.any()  # a drawing: nobody, no crash


def test_upright_clip_is_left_alone(tmp_path):
    up = [upright_pattern(64, 48, i) for i in range(4)]
    clip = write_clip(tmp_path / "u.mp4", up)
    info = probe(clip)
    assert (info.width, info.height, info.rotation, info.codec) == (64, 48, 0, "h264")
    assert _close(read_all_frames(clip)[0][1], up[0]) < 8


def test_variable_frame_rate_keeps_presentation_times(tmp_path):
    # A phone dropping frames in low light: gaps of 33 ms, then 100 ms, then 33 ms again.
    times = [0.0, 0.033, 0.067, 0.1, 0.2, 0.3, 0.4, 0.433, 0.467, 0.5, 0.533, 0.567]
    clip = write_clip(tmp_path / "vfr.mp4", n=len(times), fps=30, times=times)
    got = [t for t, _ in read_all_frames(clip)]
    assert got == pytest.approx(times, abs=1e-3)  # not index / fps (which would end at 0.367)
    sampled = [t for t, _ in iter_frames(clip, 10)]
    # 10 fps: one frame per 100 ms tick; ticks inside the gap are not made up.
    assert sampled == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], abs=1e-3)


@pytest.mark.parametrize(
    "name, codec",
    [
        ("h264.mov", "libx264"), ("h264.m4v", "libx264"), ("hevc.mp4", "libx265"), ("hevc.mov", "libx265"),
        ("vp8.webm", "libvpx"), ("vp9.webm", "libvpx-vp9"), ("vp9.mkv", "libvpx-vp9"),
        ("av1.mkv", "libsvtav1"), ("mpeg4.avi", "mpeg4"),
    ],
)  # fmt: skip
def test_formats_people_have(tmp_path, name, codec):
    clip = write_clip(tmp_path / name, codec=codec, n=12, fps=12, size=(64, 48))
    info = probe(clip)
    assert (info.width, info.height) == (64, 48)
    assert info.fps == pytest.approx(12, rel=0.01)
    assert info.frame_count == pytest.approx(12, abs=1)  # webm/mkv: estimated from the duration
    frames = read_all_frames(clip)
    assert len(frames) == 12
    assert _close(frames[0][1], upright_pattern(64, 48, 0)) < 10


def test_60_fps_with_audio_track(tmp_path):
    clip = write_clip(tmp_path / "phone.mp4", n=60, fps=60, audio=True)
    info = probe(clip)
    assert info.fps == pytest.approx(60) and info.frame_count == 60
    times = [t for t, _ in iter_frames(clip, 15)]
    assert len(times) == 15 and np.allclose(np.diff(times), 1 / 15, atol=2e-3)


def test_4k_frames_are_scaled_down_before_pose(tmp_path):
    clip = write_clip(tmp_path / "uhd.mp4", n=3, size=(3840, 2160), display_rotation=-90)
    info = probe(clip)
    assert (info.width, info.height) == (2160, 3840)  # full size as shown
    info, frames = open_frames(clip, None)
    shapes = {img.shape for _, img in frames}
    assert shapes == {(1280, 720, 3)}  # upright portrait, longest side 1280
    _, full = open_frames(clip, None, max_side=None)
    assert next(full)[1].shape == (3840, 2160, 3)
    full.close()


def _image_bytes(ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, np.zeros((40, 60, 3), np.uint8))
    assert ok
    return buf.tobytes()


def test_files_that_are_not_videos_get_one_line(tmp_path):
    png = tmp_path / "holiday.mp4"
    png.write_bytes(_image_bytes(".png"))
    jpg = tmp_path / "photo.mov"
    jpg.write_bytes(_image_bytes(".jpg"))
    audio = write_clip(tmp_path / "tmp.mp4", n=10, audio=True)
    audio_only = tmp_path / "song.mp4"
    _strip_video(audio, audio_only)
    front = write_clip(tmp_path / "front.mp4", n=30)  # moov first: a cut keeps a header
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(front.read_bytes()[:600])
    cases = {png: "image", jpg: "image", audio_only: "audio only", cut: "unreadable"}
    for path, words in cases.items():
        with pytest.raises(VideoError) as e:
            list(iter_frames(path))
        msg = str(e.value)
        assert words in msg and "\n" not in msg, (path.name, msg)


def _strip_video(src, dst) -> None:
    import av

    with av.open(str(src)) as i, av.open(str(dst), "w", format="mp4") as o:
        a = i.streams.audio[0]
        out = o.add_stream_from_template(a)
        for p in i.demux(a):
            if p.dts is not None:
                p.stream = out
                o.mux(p)


def test_truncated_download_keeps_what_decodes(tmp_path):
    import av

    src = write_clip(tmp_path / "full.mp4", n=40)
    # Rewrite with the index at the front (as phones and web downloads have it), then cut.
    front = tmp_path / "front.mp4"
    with av.open(str(src)) as i, av.open(str(front), "w", options={"movflags": "+faststart"}) as o:
        s = o.add_stream_from_template(i.streams.video[0])
        for p in i.demux(i.streams.video[0]):
            if p.dts is not None:
                p.stream = s
                o.mux(p)
    data = front.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    frames = read_all_frames(cut)
    assert 0 < len(frames) < 40


def test_settings_version_is_in_the_key_and_metadata():
    import hashlib
    import json
    from dataclasses import asdict

    s = PoseSettings()
    old_style = hashlib.sha256(json.dumps(asdict(s), sort_keys=True).encode()).hexdigest()[:10]
    assert s.key() != old_style  # a cache written before versioning is never read
    assert s.to_dict()["version"] == PoseSettings.VERSION >= 2
    assert "version" not in asdict(s)  # stored settings cannot pin an old version
    assert PoseSettings(max_side=640).key() != s.key()


# ---- real clips: the same landmarks whatever the rotation tag -----------------------
def _rewrite(src, dst, ccw: int, seconds: float = 2.0) -> None:
    """Re-encode the first `seconds` of a real clip, stored turned and tagged `ccw`."""
    frames = [img for t, img in iter_frames(src, None) if t < seconds]
    write_clip(dst, [stored_for(f, ccw) for f in frames], fps=probe(src).fps, display_rotation=ccw)


@pytest.mark.slow
def test_rotated_real_clip_gives_the_same_landmarks(real_clips, tmp_path):
    src = real_clip(real_clips, "squat/squat_7.mp4")
    settings = PoseSettings(fps=15)
    seqs = {}
    for ccw in (0, 90, 180, -90):
        clip = tmp_path / f"r{ccw}.mp4"
        _rewrite(src, clip, ccw)
        seqs[ccw] = extract_pose(clip, settings)
    ref = seqs[0]
    assert ref.detection_rate > 0.9
    assert (ref.meta["width"], ref.meta["height"]) == (854, 480)
    for ccw in (90, 180, -90):
        seq = seqs[ccw]
        assert (seq.meta["width"], seq.meta["height"]) == (854, 480) and seq.meta["rotation"] == (
            -ccw
        ) % 360
        both = ref.detected & seq.detected
        # Both found in nearly every frame; 0.9 exactly came up once in a clean-clone run (the rotated
        # encode differs by a frame or two), so the bound leaves that room. The landmarks are the test.
        assert both.mean() >= 0.85, (ccw, both.mean())
        d = np.abs(seq.landmarks[both, 11:29, :2] - ref.landmarks[both, 11:29, :2])  # body joints
        assert np.median(d) < 0.01, (ccw, np.median(d))


@pytest.mark.slow
def test_portrait_stored_sideways_was_read_lying_down_before(real_clips, tmp_path):
    """What the bug looked like: read as stored, the standing person lies on their side."""
    src = real_clip(real_clips, "squat/squat_7.mp4")
    clip = tmp_path / "phone.mp4"
    _rewrite(src, clip, -90, seconds=1.0)
    seq = extract_pose(clip, PoseSettings(fps=15))
    lm = seq.landmarks[seq.detected]
    # Upright: hips below shoulders in image y (y grows down).
    assert np.nanmedian(lm[:, [23, 24], 1] - lm[:, [11, 12], 1]) > 0.05
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_annotated_phone_clip_comes_out_upright(tmp_path):
    import av
    from test_timeline import MotionClassifier

    from workout_classifier.annotate import annotate_video

    up = _upright_frames(8)
    clip = write_clip(
        tmp_path / "phone.mp4", [stored_for(f, -90) for f in up], display_rotation=-90
    )
    out = tmp_path / "ann.mp4"
    annotate_video(clip, out, MotionClassifier())
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 8 and frames[0].shape == (H, W, 3)  # portrait, as shown
    assert probe(out).rotation == 0
    # Below the overlay panel the blue ramp still runs left -> right, as in the upright picture.
    row = frames[-1][-3, :, 2].astype(int)
    assert row[-6:].mean() - row[:6].mean() > 80
