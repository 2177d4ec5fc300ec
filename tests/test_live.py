"""`workout live` on files played as streams: JSON lines, the summary, the label and reps against the offline path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import real_clip, write_video
from synth import synthetic_sequence
from typer.testing import CliRunner

from workout_classifier.cli import app
from workout_classifier.live import RESTING, LiveConfig, SetTracker, posture
from workout_classifier.stream import LatestFrame

REAL_LIVE_CLIP = "push up/push up_smayan.mp4"  # 12 s, 4 push-ups (offline count)


def run_json(args: list[str]) -> tuple[list[dict], dict]:
    res = CliRunner().invoke(app, ["live", "--json", *args])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert "summary" in lines[-1], lines[-1:]
    return lines[:-1], lines[-1]["summary"]


def test_latest_frame_keeps_only_the_newest():
    slot = LatestFrame()
    for i in range(5):
        slot.put(i)
    assert slot.take() == 4 and slot.dropped == 4 and slot.produced == 5
    slot.close()
    assert slot.take() is None


def test_sets_change_with_the_exercise_and_end_with_rest():
    st = SetTracker(LiveConfig(switch_seconds=1.0, rest_seconds=2.0, min_set_seconds=1.0))
    labels = ["squat"] * 8 + ["lunges"] + ["squat"] * 2 + ["lunges"] * 6 + [RESTING] * 6 + ["squat"] * 6
    for i, lab in enumerate(labels):
        st.update(i * 0.5, lab, max(i * 0.5 - 4, 0))
    sets = st.finish()
    assert [s.label for s in sets] == ["squat", "lunges", "squat"]  # one stray decision starts no set
    assert sets[1].end <= 8.5 + 1e-9 and sets[2].start >= 11.0 - 1e-9


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
    assert frames and all({"time", "label", "confidence", "reps", "latency_ms"} <= set(f) for f in frames)
    assert all(f["label"] is None and f["reps"] == 0 for f in frames)  # no person: no exercise, no reps
    assert summary["sets"] == [] and summary["person_found"] == 0.0
    assert summary["frames_read"] >= 40 and summary["frames_processed"] + summary["frames_dropped"] == summary["frames_read"]
    times = [f["time"] for f in frames]
    assert times == sorted(times) and summary["wall_s"] >= 1.2  # played at its own speed (1.5 s), not faster


def test_live_bad_source_is_one_line(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n" * 20)
    res = CliRunner().invoke(app, ["live", "--source", str(bad), "--json"])
    assert res.exit_code == 1 and "not a video" in res.output and "Traceback" not in res.output


@pytest.mark.slow
def test_live_on_a_real_clip_matches_the_offline_answer(real_clips, tmp_path):
    from workout_classifier.predict import predict_videos

    clip = real_clip(real_clips, REAL_LIVE_CLIP)
    from workout_classifier.checkpoint import Classifier

    offline = predict_videos([clip], Classifier.load(), reps=True)[0]
    frames, summary = run_json(["--source", str(clip)])
    labels = [f["label"] for f in frames if f["label"]]
    assert labels and max(set(labels), key=labels.count) == offline["label"]
    reps = [f["reps"] for f in frames]
    assert reps == sorted(reps) and reps[-1] > 0  # the counter rises as reps happen, never back
    assert len(summary["sets"]) == 1 and summary["sets"][0]["label"] == offline["label"]
    assert abs(summary["exercises"][offline["label"]]["reps"] - offline["reps"]) <= 1, (summary, offline["reps"])
    assert summary["latency_ms_p95"] is not None and np.isfinite(summary["latency_ms_p95"])
