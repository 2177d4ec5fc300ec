"""`workout annotate`: an H.264 mp4 with the overlay, and clear handling of bad input."""

import pytest
from conftest import real_clip, write_video
from synth import synthetic_sequence
from test_timeline import MotionClassifier
from typer.testing import CliRunner

from workout_classifier.annotate import analyse, annotate_video, video_codec
from workout_classifier.cli import app
from workout_classifier.frames.video import VideoError


def test_analysis_of_landmarks_has_reps_and_timeline():
    res = analyse(synthetic_sequence("squat", 10, seed=1), MotionClassifier())
    assert res["label"] == "squat" and res["reps"] >= 3 and res["timeline"]
    assert res.get("form") is None  # only push-ups get a form verdict


def test_no_person_clip_is_written_with_a_message(tmp_path):
    clip = write_video(tmp_path / "ball.mp4", frames=20, fps=10)
    out = tmp_path / "out" / "ann.mp4"
    res = annotate_video(clip, out, MotionClassifier())
    assert res["error"] and "no person" in res["error"]
    assert out.is_file() and video_codec(out) == "h264"
    import av

    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 20


def test_unreadable_video_raises_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(VideoError):
        annotate_video(bad, tmp_path / "o.mp4", MotionClassifier())


def test_cli_annotate_reports_bad_model(tmp_path):
    clip = write_video(tmp_path / "c.mp4", frames=5)
    (tmp_path / "m.pt").write_text("junk")
    r = CliRunner().invoke(
        app,
        [
            "annotate",
            str(clip),
            "--out",
            str(tmp_path / "o.mp4"),
            "--model",
            str(tmp_path / "m.pt"),
        ],
    )
    assert r.exit_code == 1 and "model" in r.output.lower()


@pytest.mark.slow
def test_real_push_up_is_annotated(real_clips, tmp_path):
    clip = real_clip(real_clips, "push up/pushfit-correct10.mp4")
    out = tmp_path / "a.mp4"
    clf = MotionClassifier()
    clf.classes = ["push up", "squat", "jack"]
    res = annotate_video(clip, out, clf)
    assert video_codec(out) == "h264" and res["frames"] > 10 and res["reps"] >= 0
    assert res["reps"] >= 1  # one push-up, counted by hand in bench/rep_labels.csv
