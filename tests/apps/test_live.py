"""`workout live` on files played as streams: JSON lines, the summary, the label and reps against the offline path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import real_clip, small_copy, write_video
from figure import write_squat_clip
from synth import synthetic_sequence
from typer.testing import CliRunner

from workout_classifier.cli import app
from workout_classifier.live.stream import LatestFrame
from workout_classifier.live.tracker import RESTING, LiveConfig, SetTracker, posture

REAL_LIVE_CLIP = "push up/push up_smayan.mp4"  # 12 s, 4 push-ups (offline count)


SRC = Path(__file__).resolve().parents[2] / "src"


def run_json(args: list[str]) -> tuple[list[dict], dict]:
    res = CliRunner().invoke(app, ["live", "--json", *args])
    assert res.exit_code == 0, res.output
    return parse_lines(res.stdout)


def parse_lines(stdout: str) -> tuple[list[dict], dict]:
    lines = [json.loads(x) for x in stdout.splitlines() if x.startswith("{")]
    assert lines and "summary" in lines[-1], lines[-1:]
    return lines[:-1], lines[-1]["summary"]


def live_process(clip: Path) -> tuple[list[dict], dict]:
    """`workout live --source CLIP --json` in its own process, as a script would run it; stderr must stay quiet."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    res = subprocess.run([sys.executable, "-m", "workout_classifier.cli", "live", "--json", "--source", str(clip)],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert not res.stderr.strip(), (
        f"noise on the terminal: {res.stderr[:500]}"
    )  # MediaPipe/absl logs
    return parse_lines(res.stdout)


def offline(clip: Path) -> dict:
    """`workout predict --json --reps CLIP`: the offline label and rep count."""
    res = CliRunner().invoke(app, ["predict", "--json", "--reps", str(clip)])
    assert res.exit_code in (0, 1), (
        res.output
    )  # 1: no clip could be classified (the answer says why)
    return json.loads(res.stdout)[0]


def assert_matches_offline(frames: list[dict], summary: dict, off: dict) -> None:
    """The live answer's label is the offline one, its final reps within one of the offline count."""
    reps = [f["reps"] for f in frames]
    assert reps == sorted(reps), "the live count went down"
    assert [s["label"] for s in summary["sets"]] == [off["label"]], (summary["sets"], off["label"])
    total = summary["exercises"][off["label"]]["reps"]
    assert abs(total - off["reps"]) <= 1, (total, off["reps"])
    assert reps[-1] <= total  # what was shown last is no more than the final count


def test_latest_frame_keeps_only_the_newest():
    slot = LatestFrame()
    for i in range(5):
        slot.put(i)
    assert slot.take() == 4 and slot.dropped == 4 and slot.produced == 5
    slot.close()
    assert slot.take() is None


def test_sets_change_with_the_exercise_and_end_with_rest():
    st = SetTracker(LiveConfig(switch_seconds=1.0, rest_seconds=2.0, min_set_seconds=1.0))
    labels = (
        ["squat"] * 8 + ["lunges"] + ["squat"] * 2 + ["lunges"] * 6 + [RESTING] * 6 + ["squat"] * 6
    )
    for i, lab in enumerate(labels):
        st.update(i * 0.5, lab, max(i * 0.5 - 4, 0))
    sets = st.finish()
    assert [s.label for s in sets] == [
        "squat",
        "lunges",
        "squat",
    ]  # one stray decision starts no set
    assert sets[1].end <= 8.5 + 1e-9 and sets[2].start >= 11.0 - 1e-9


def test_a_young_set_takes_the_later_label():
    # The first decisions see a short window: a different exercise within settle_seconds relabels the set.
    st = SetTracker(LiveConfig(settle_seconds=4.0))
    events = [
        st.update(1.5 + i * 0.5, lab, 0.0)
        for i, lab in enumerate(["lunges", "lunges", "squat"] + ["squat"] * 10)
    ]
    assert events[:3] == ["open", None, "relabel"] and set(events[3:]) == {None}
    sets = st.finish()
    assert [(s.label, s.start) for s in sets] == [("squat", 0.0)]


def test_posture_tells_standing_still_from_a_squat():
    move = synthetic_sequence("squat", seconds=4.0, seed=1)
    still = synthetic_sequence("squat", seconds=4.0, seed=1)
    still.landmarks[:] = still.landmarks[:1]
    p_move = posture(move.landmarks, move.detected, 640 / 480)
    p_still = posture(still.landmarks, still.detected, 640 / 480)
    assert p_still["upright"] and p_still["still"]
    assert not p_move["still"]


def test_live_on_a_generated_clip_sees_nobody(tmp_path):
    clip = write_video(tmp_path / "ball.mp4", frames=45, fps=30)
    frames, summary = run_json(["--source", str(clip)])
    assert offline(clip)["label"] is None  # offline sees nobody either
    assert frames and all(
        {"time", "label", "confidence", "reps", "latency_ms"} <= set(f) for f in frames
    )
    assert all(
        f["label"] is None and f["reps"] == 0 for f in frames
    )  # no person: no exercise, no reps
    assert summary["sets"] == [] and summary["person_found"] == 0.0
    assert (
        summary["frames_read"] >= 40
        and summary["frames_processed"] + summary["frames_dropped"] == summary["frames_read"]
    )
    times = [f["time"] for f in frames]
    assert (
        times == sorted(times) and summary["wall_s"] >= 1.2
    )  # played at its own speed (1.5 s), not faster


def test_live_bad_source_is_one_line(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n" * 20)
    res = CliRunner().invoke(app, ["live", "--source", str(bad), "--json"])
    assert res.exit_code == 1 and "not a video" in res.output and "Traceback" not in res.output


def test_a_missing_camera_is_our_one_line_without_opencvs(tmp_path):
    """In its own process, so that what OpenCV's camera backends write to fd 2 is seen too."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    res = subprocess.run([sys.executable, "-m", "workout_classifier.cli", "live", "--json", "--source", "57"],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        "error: 57: camera 57 cannot be opened (none attached, or in use by another program)"
    ]


def test_live_on_a_generated_squat_clip_matches_the_offline_answer(tmp_path):
    clip = write_squat_clip(tmp_path / "squats.mp4", reps=4, period=1.8, fps=24)
    off = offline(clip)
    assert off["reps"] >= 3, off  # the drawn figure is found and its squats counted offline
    frames, summary = live_process(clip)
    assert_matches_offline(frames, summary, off)
    assert summary["sets"][0]["reps"] >= 3 and summary["person_found"] > 0.9
    assert any(
        f["reps"] > 0 for f in frames[: len(frames) * 3 // 4]
    )  # counted as it plays, not only at the end


@pytest.mark.slow
def test_live_on_a_real_clip_matches_the_offline_answer(real_clips, tmp_path):
    clip = real_clip(real_clips, REAL_LIVE_CLIP)
    off = offline(clip)
    frames, summary = run_json(["--source", str(clip)])
    labels = [f["label"] for f in frames if f["label"]]
    assert labels and max(set(labels), key=labels.count) == off["label"]
    assert frames[-1]["reps"] > 0  # the counter rises as reps happen
    assert_matches_offline(frames, summary, off)
    assert summary["latency_ms_p95"] is not None and np.isfinite(summary["latency_ms_p95"])


def test_a_change_of_exercise_starts_a_new_counter():
    """Poses fed straight in: squats, then curls; each set is counted by its own exercise's counter."""
    from workout_classifier.analysis.reps import count_reps
    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.live.tracker import LiveTracker

    squat, curl = (
        synthetic_sequence("squat", seconds=12, seed=3),
        synthetic_sequence("curl", seconds=12, seed=4),
    )
    tracker = LiveTracker(Classifier.load())
    labels = iter(["squat"] * 24 + ["barbell biceps curl"] * 200)
    tracker._decide = lambda t: _fake_decide(
        tracker, t, next(labels)
    )  # the model is not under test here
    counters = []
    for seq, shift in ((squat, 0.0), (curl, 12.0)):
        for t, lm, w, ok in zip(seq.times, seq.landmarks, seq.world, seq.detected, strict=True):
            tracker.add_pose(t + shift, lm, w, ok)
            if tracker.counter is not None and (
                not counters or counters[-1] is not tracker.counter
            ):
                counters.append(tracker.counter)
    summary = tracker.summary()
    tracker.close()
    assert [s["label"] for s in summary["sets"]] == ["squat", "barbell biceps curl"]
    assert [c.exercise for c in counters] == ["squat", "barbell biceps curl"]
    for got, seq, name in zip(
        summary["sets"], (squat, curl), ("squat", "barbell biceps curl"), strict=True
    ):
        assert abs(got["reps"] - count_reps(seq, name).reps) <= 1, (got, name)
    assert summary["sets"][1]["reps"] >= 3


def _fake_decide(tracker, t: float, label: str) -> None:
    tracker._last_decision = t
    tracker._sync()
    tracker.label = label
    tracker._set_event(tracker.sets.update(t, label, max(t - 3.0, 0.0)), t)


@pytest.mark.slow
def test_live_finds_a_lifter_small_in_the_frame(real_clips, tmp_path):
    """The phone at the back of the room: a squat at a fifth of a 720p frame's height, played live."""
    import cv2

    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.live.tracker import LiveTracker
    from workout_classifier.pose.zoom import Zoom

    clip = small_copy(real_clip(real_clips, "squat/squat_11.mp4"), tmp_path / "far.mp4", 0.2)
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while len(frames) < 40:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    found = {}
    for zoom in (False, True):
        tracker = LiveTracker(Classifier.load())
        tracker.zoom = Zoom(zoom)
        try:
            states = [tracker.process(f, i / 10) for i, f in enumerate(frames)]
        finally:
            tracker.close()
        found[zoom] = np.mean(list(tracker.found))
        if zoom:
            assert tracker.zoom.zoomed_frames > 0 and states
            xy = np.nanmedian(
                np.stack(list(tracker.rows))[np.array(tracker.found)][:, :, :2], axis=(0, 1)
            )
            assert xy[0] > 900 / 1280 and xy[1] > 0.7  # on the lifter, in the lower right
    assert found[False] < 0.5 and found[True] >= 0.8, found


def test_live_reads_its_own_threshold():
    """Live skips the whole-clip range and stance checks, so it keeps the threshold fitted for it."""
    from workout_classifier.learn.checkpoint import Classifier
    from workout_classifier.live.tracker import LiveTracker

    clf = Classifier.load()  # the shipped model carries both
    assert clf.extra["live_unknown_threshold"] > clf.extra["unknown_threshold"]
    assert LiveTracker(clf).threshold == clf.extra["live_unknown_threshold"]
    del clf.extra["live_unknown_threshold"]  # a model file from before: the clip threshold
    assert LiveTracker(clf).threshold == clf.extra["unknown_threshold"]
