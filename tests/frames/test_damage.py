"""What the decoder could not read (frames/damage.py): counted while decoding, said in words."""

from __future__ import annotations

import pytest
from avclips import write_clip
from damaging import cut, faststart, flip_bits, zero_block

from workout_classifier.frames import damage
from workout_classifier.frames.sampling import decode_report, read_all_frames
from workout_classifier.frames.video import VideoError

N, FPS = 60, 30.0  # 2 s


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A clean H.264 clip, header first (so that a cut keeps it)."""
    d = tmp_path_factory.mktemp("damage")
    return faststart(write_clip(d / "raw.mp4", n=N, fps=FPS, size=(160, 120)), d / "clip.mp4")


def test_a_clean_clip_reports_nothing(clip):
    r = decode_report(clip)
    assert (r["frames"], r["damaged"], r["lost"], r["errors"]) == (N, 0, 0, 0)
    assert not r["truncated"] and r["spans"] == [] and abs(r["read_s"] - N / FPS) < 0.01
    assert damage.warnings(r) == [] and not damage.too_damaged(r)


def test_a_zeroed_block_is_counted_where_it_is(clip, tmp_path):
    r = decode_report(zero_block(clip, tmp_path / "z.mp4", share=0.2, where=0.4))
    assert r["damaged"] + r["lost"] >= 5 and not r["truncated"]
    # the block is in the middle of the picture data: the damage is inside the clip, not at its ends
    assert r["spans"] and 0.2 < r["spans"][0][0] and r["spans"][-1][1] < N / FPS
    (w, *_) = damage.warnings(r)
    assert "frames could not be decoded" in w and f"of {r['frames'] + r['lost']} frames" in w


def test_flipped_bits_are_seen(clip, tmp_path):
    r = decode_report(flip_bits(clip, tmp_path / "f.mp4", bits=40, seed=3))
    assert r["errors"] > 0 and r["damaged"] + r["lost"] > 0
    assert damage.warnings(r)


def test_the_decode_goes_on_past_damage(clip, tmp_path):
    """A damaged stretch no longer ends the clip: the frames after it are decoded."""
    damaged = zero_block(clip, tmp_path / "z.mp4", share=0.1, where=0.3)
    times = [t for t, _ in read_all_frames(damaged)]
    assert times[-1] > 0.9 * (N - 1) / FPS and len(times) < N


def test_a_clean_cut_says_how_much_was_there(clip, tmp_path):
    r = decode_report(cut(clip, tmp_path / "cut.mp4", 0.5))
    assert r["truncated"] and r["damaged"] == r["lost"] == 0  # whole up to the cut
    assert 0.3 < r["read_s"] < 0.8 * N / FPS and r["stated_s"] == pytest.approx(N / FPS, abs=0.01)
    assert damage.warnings(r) == [
        f"only {r['read_s']:.1f} s of the stated {N / FPS:.1f} s could be read (the file is cut "
        "short); the answer is about that part"
    ]
    assert not damage.too_damaged(r)


def test_too_damaged_above_the_documented_share():
    lost = round(100 * damage.MAX_DAMAGED_SHARE)
    base = {"frames": 100 - lost, "damaged": 0, "lost": lost, "spans": [[1.0, 2.0]]}
    assert damage.damaged_share(base) == damage.MAX_DAMAGED_SHARE and not damage.too_damaged(base)
    worse = {**base, "damaged": 1}
    assert damage.too_damaged(worse)
    share = f"{damage.MAX_DAMAGED_SHARE:.0%}"
    assert (
        damage.warnings(worse)[-1]
        == f"more than {share} of the frames are damaged: no exercise is named"
    )


def test_a_part_of_a_clip_is_warned_only_where_it_overlaps_damage():
    r = {"frames": 90, "damaged": 3, "lost": 10, "spans": [[1.0, 1.5], [4.0, 4.0]]}
    assert damage.warnings_within(r, 0.0, 0.9) == []
    assert damage.warnings_within(r, 1.4, 3.0) == ["frames at 1.0-1.5 s could not be decoded"]
    assert damage.warnings_within(r, 0.0, 5.0) == [
        "frames at 1.0-1.5 s, 4.0 s could not be decoded"
    ]
    assert damage.warnings_within(None, 0.0, 5.0) == []


def test_chunk_reports_add_up():
    a = {"frames": 40, "damaged": 2, "lost": 0, "errors": 3, "read_s": 4.0, "stated_s": 9.0,
         "truncated": False, "spans": [[1.0, 1.1]]}  # fmt: skip
    b = {"frames": 20, "damaged": 0, "lost": 5, "errors": 1, "read_s": 6.0, "stated_s": 9.0,
         "truncated": True, "spans": [[4.5, 5.0]]}  # fmt: skip
    m = damage.merge_reports([a, b])
    assert (m["frames"], m["damaged"], m["lost"], m["errors"]) == (60, 2, 5, 4)
    assert m["read_s"] == 6.0 and m["truncated"] and m["spans"] == [[1.0, 1.1], [4.5, 5.0]]
    # a chunk past the end of a cut file has no report: how far the first got still says it
    assert damage.merge_reports([a])["truncated"]


def test_ffmpeg_logs_stay_off_after_a_decode(clip, tmp_path):
    import av.logging

    decode_report(flip_bits(clip, tmp_path / "f.mp4", bits=40, seed=3))
    assert av.logging.get_level() is None  # nothing of FFmpeg's reaches the terminal afterwards


def test_nothing_decodable_is_still_a_one_line_error(clip, tmp_path):
    data = clip.read_bytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(data[:64] + bytes(len(data) - 64))
    with pytest.raises(VideoError) as e:
        decode_report(bad)
    assert "\n" not in str(e.value)


def test_a_lost_head_is_counted_and_not_taken_for_a_cut(tmp_path):
    """Damage before the first key frame that survives: the frames up to it are lost (not a cut)."""
    import av
    import numpy as np

    raw = tmp_path / "raw.mp4"
    with av.open(str(raw), "w") as c:  # a key frame every 10 frames
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 160, 120, "yuv420p"
        s.codec_context.gop_size = 10
        for i in range(N):
            img = np.full((120, 160, 3), (i * 4) % 256, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    clip = faststart(raw, tmp_path / "clip.mp4")
    r = decode_report(zero_block(clip, tmp_path / "head.mp4", share=0.3, where=0.0))
    assert r["head_lost_s"] > 0.2 and not r["truncated"]
    assert r["frames"] + r["lost"] == pytest.approx(N, abs=2)  # every frame: decoded or lost
    assert "the first" in damage.warnings(r)[0]


def test_damage_where_the_person_is_names_no_exercise():
    """A fifth of the file damaged, but it is most of the frames where the person is seen."""
    import numpy as np

    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence
    from workout_classifier.predict import classify_sequence

    times = np.arange(100) / 10.0  # 10 s at 10 fps
    detected = (times >= 6.0) & (times < 8.0)  # the person only in 6-8 s ...
    report = {"frames": 300, "damaged": 60, "lost": 0, "spans": [[5.9, 8.0]], "truncated": False}
    assert damage.damaged_share(report) == 0.2 and not damage.too_damaged(report)
    assert damage.person_damaged_share(report, times, detected) == 1.0  # ... and all of it damaged
    assert damage.person_damaged_share(report, times, ~detected) < 0.05  # the edges only
    assert damage.person_damaged_share({"spans": []}, times, detected) == 0.0

    rng = np.random.default_rng(0)
    lm = rng.uniform(0.3, 0.7, (100, NUM_JOINTS, 4)).astype(np.float32)
    lm[~detected] = np.nan
    seq = PoseSequence(lm, lm.copy(), times, detected, meta={"decode": report})
    out = classify_sequence(seq, Classifier.load())
    assert out["damaged"] and out["label"] == "unknown"
    assert any("frames showing the person are damaged" in w for w in out["warnings"])
