"""One clip on several cores (split.py): the same frames and times as one graph, the same landmarks up to
the first cut, the same timeline on a real session."""

import cv2
import numpy as np
import pytest
from conftest import real_clip, write_video

from workout_classifier.frames.sampling import open_frames
from workout_classifier.pose import early
from workout_classifier.pose.landmarks import PoseSettings
from workout_classifier.pose.runner import extract_pose
from workout_classifier.pose.split import (
    HELPER_START,
    HELPER_START_EARLY_S,
    HELPER_START_S,
    MIN_TAIL,
    OVERLAP,
    extract_pose_split,
    plan_cuts,
)


def test_plan_cuts_balances_late_helpers():
    assert plan_cuts(90, 2) == [(90 + OVERLAP + HELPER_START) // 2]
    cuts = plan_cuts(300, 3)
    rest = [b - a for a, b in zip(cuts, [*cuts[1:], 300], strict=True)]
    assert (
        cuts[0] == pytest.approx(rest[0] + OVERLAP + HELPER_START, abs=1)
        and abs(rest[0] - rest[1]) <= 1
    )
    assert (
        plan_cuts(OVERLAP + HELPER_START + 2 * MIN_TAIL - 1, 2) == []
    )  # a helper would get too little
    assert (
        len(plan_cuts(OVERLAP + HELPER_START + 2 * MIN_TAIL, 8)) == 1
    )  # fewer parts, not tiny ones


def test_split_keeps_every_sampled_frame_once(tmp_path):
    clip = write_video(
        tmp_path / "c.mp4", frames=180, fps=30
    )  # 60 sampled frames at the default 10 fps
    one = extract_pose(clip, PoseSettings())
    two = extract_pose_split(clip, PoseSettings(), parts=2)
    np.testing.assert_array_equal(two.times, one.times)  # no frame lost or doubled at the cut
    assert one.num_frames == 60
    # the helper's late start is in seconds: fewer frames at 10 fps than at 15
    helper_start = round(HELPER_START_S * PoseSettings().fps)
    assert helper_start < HELPER_START
    assert two.meta["split"]["parts"] == 2
    assert two.meta["split"]["cut_frames"] == plan_cuts(60, 2, helper_start=helper_start)
    assert two.meta["sha256"] == one.meta["sha256"] and two.meta["width"] == one.meta["width"]


def test_three_chunks_seek_to_the_same_frames(tmp_path):
    clip = write_video(tmp_path / "long.mp4", frames=330, fps=30)  # 11 s: the later chunks seek
    one = extract_pose(clip, PoseSettings())
    three = extract_pose_split(clip, PoseSettings(), parts=3)
    assert three.meta["split"]["parts"] == 3 and three.meta["split"]["cuts"][0] > 2.0
    np.testing.assert_array_equal(three.times, one.times)


def test_a_chunk_of_frames_is_the_same_as_decoding_from_the_start(tmp_path):
    clip = write_video(tmp_path / "long.mp4", frames=330, fps=25)
    _, frames = open_frames(clip, 15.0)
    full = [(t, f) for t, f in frames if 4.0 <= t < 9.0]
    _, frames = open_frames(clip, 15.0, start=4.0, stop=9.0)
    part = list(frames)
    assert [t for t, _ in part] == [t for t, _ in full] and len(part) == 75
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(part, full, strict=True))


def test_short_clip_is_one_part(tmp_path):
    clip = write_video(
        tmp_path / "s.mp4", frames=40, fps=30
    )  # 14 sampled at 10 fps: nothing left for the helper
    two = extract_pose_split(clip, PoseSettings(), parts=2)
    assert two.meta["split"]["parts"] == 1 and two.num_frames == 14


def test_real_clip_landmarks_match_one_graph(real_clips):
    clip = real_clip(real_clips, "squat/v_BodyWeightSquats_g25_c07.mp4")  # 5 s
    one = extract_pose(clip, PoseSettings())
    two = extract_pose_split(clip, PoseSettings(), parts=2)
    cut = two.meta["split"]["cut_frames"][0]
    np.testing.assert_array_equal(two.times, one.times)
    np.testing.assert_array_equal(
        two.landmarks[:cut], one.landmarks[:cut]
    )  # the first half is one graph's
    both = one.detected & two.detected
    gap = np.abs(two.landmarks[cut:, :, :2] - one.landmarks[cut:, :, :2])[both[cut:]]
    # The restarted tracker finds the same person nearby (its smoothing starts afresh; one graph run
    # twice differs by 0).
    assert np.median(gap) < 0.05
    assert abs(two.detection_rate - one.detection_rate) < 0.1


def _session(real_clips, out, rels) -> str:
    """Real 320x240 25 fps clips joined end to end (a session of two exercises)."""
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (320, 240))
    for rel in rels:
        cap = cv2.VideoCapture(str(real_clip(real_clips, rel)))
        while True:
            ok, f = cap.read()
            if not ok:
                break
            vw.write(cv2.resize(f, (320, 240)))
        cap.release()
    vw.release()
    return str(out)


def test_chunked_session_gives_the_one_graph_timeline(real_clips, tmp_path):
    from workout_classifier.learn.checkpoint import DEFAULT_MODEL, Classifier
    from workout_classifier.predict import add_extras, classify_sequence

    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"no shipped model at {DEFAULT_MODEL}")
    clip = _session(real_clips, tmp_path / "session.mp4",
                    ["squat/v_BodyWeightSquats_g09_c01.mp4", "pull up/v_PullUps_g15_c02.mp4"])  # fmt: skip
    clf = Classifier.load()
    lines = []
    for seq in (
        extract_pose(clip, PoseSettings()),
        extract_pose_split(clip, PoseSettings(), parts=2),
    ):
        res = classify_sequence(seq, clf)
        lines.append(add_extras(res, seq, clf, timeline=True)["timeline"])
    one, two = lines
    assert [s["label"] for s in two] == [s["label"] for s in one] == ["squat", "pull up"]
    for a, b in zip(one, two, strict=True):
        assert abs(a["start"] - b["start"]) <= 1.0 and abs(a["end"] - b["end"]) <= 1.0


def test_cold_predict_of_one_clip_uses_both_halves(real_clips, tmp_path):
    from workout_classifier.learn.checkpoint import DEFAULT_MODEL, Classifier
    from workout_classifier.predict import predict_videos

    clip = real_clip(real_clips, "squat/v_BodyWeightSquats_g25_c07.mp4")
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"no shipped model at {DEFAULT_MODEL}")
    clf = Classifier.load()
    cold = predict_videos([clip], clf, keep_internal=True)[0]  # temporary cache: split
    kept = predict_videos([clip], clf, cache_dir=tmp_path, keep_internal=True)[
        0
    ]  # a cache: one graph
    assert cold["sequence"].meta["split"]["parts"] == 2 and "split" not in kept["sequence"].meta
    assert cold["label"] == kept["label"] == "squat"


def test_split_counts_decode_damage_once(tmp_path):
    """Each chunk's decode report covers its own part (not its warm-up): together, one decode's."""
    from avclips import write_clip
    from damaging import faststart, zero_block

    from workout_classifier.frames.sampling import decode_report

    clip = faststart(
        write_clip(tmp_path / "raw.mp4", n=240, fps=30, size=(160, 120)), tmp_path / "c.mp4"
    )
    damaged = zero_block(clip, tmp_path / "z.mp4", share=0.1, where=0.7)  # past the cut
    seq = extract_pose_split(damaged, PoseSettings(), parts=2)
    assert seq.meta["split"]["parts"] == 2
    whole, parts = decode_report(damaged), seq.meta["decode"]
    assert parts["frames"] == whole["frames"] and parts["lost"] == whole["lost"] > 0
    assert parts["read_s"] == whole["read_s"] and not parts["truncated"]


def test_progress_counts_the_frames_of_every_chunk(tmp_path):
    """on_frames hears of the helpers' frames too (their warm-up frames included), not only its own."""
    clip = write_video(tmp_path / "c.mp4", frames=180, fps=30)  # 60 sampled frames
    told: list[int] = []
    two = extract_pose_split(clip, PoseSettings(), parts=2, on_frames=told.append)
    cut = two.meta["split"]["cut_frames"][0]
    overlap = two.meta["split"]["overlap"]
    assert sum(told) == 60 + overlap  # every kept frame, and the helper's warm-up before its cut
    assert len(told) >= 2 and cut < 60


# In a fresh interpreter: forking is safe only before MediaPipe is imported (early.can_fork), as at
# the start of `workout predict`; this test process has long imported it.
EARLY = """
import json, sys
import numpy as np
from workout_classifier.pose import early, split
from workout_classifier.pose.landmarks import PoseSettings
from workout_classifier.pose.runner import extract_pose
taken = []
take = early.take
early.take = lambda n: taken.append(take(n)) or taken[-1]
started = [early.start(2), early.start(2)]
if sys.argv[2] == "stop":
    procs = list(early._started[0]._processes.values())
    def stop(n):
        raise KeyboardInterrupt
    try:
        split.extract_pose_split(sys.argv[1], PoseSettings(), parts=2, on_frames=stop)
    except KeyboardInterrupt:
        # A process's sentinel is ready once it has ended. (is_alive() can read True for a helper the
        # pool's own thread has already reaped: its waitpid then fails and no return code is kept.)
        from multiprocessing.connection import wait
        ended = wait([p.sentinel for p in procs], timeout=5)
        print(json.dumps({"helpers": len(procs), "alive": len(procs) - len(ended)}))
    sys.exit()
two = split.extract_pose_split(sys.argv[1], PoseSettings(), parts=2)
one = extract_pose(sys.argv[1], PoseSettings())
print(json.dumps({"started": started, "used": taken[0] is not None, "split": two.meta["split"],
                  "same_times": bool(np.array_equal(one.times, two.times)), "frames": one.num_frames}))
"""


def _early(clip, mode: str) -> dict:
    import json
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", EARLY, str(clip), mode], capture_output=True, text=True,
                         timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_helpers_forked_early_do_the_later_chunks(tmp_path):
    """`early.start` at a command's start: split.py takes those helpers (MediaPipe already
    imported) and plans for their earlier start; the frames are one graph's."""
    got = _early(write_video(tmp_path / "c.mp4", frames=180, fps=30), "split")  # 60 sampled frames
    assert got["started"] == [True, False] and got["used"]  # started once, and used
    assert got["same_times"] and got["frames"] == 60
    head = round(HELPER_START_EARLY_S * PoseSettings().fps)
    assert got["split"]["cut_frames"] == plan_cuts(60, 2, helper_start=head)


def test_an_interrupted_split_stops_its_helpers_at_once(tmp_path):
    """Ctrl-C, or a cancelled job (its progress report raises): the helpers are stopped, not
    left to finish their chunks."""
    got = _early(write_video(tmp_path / "c.mp4", frames=900, fps=30), "stop")  # 300 sampled frames
    assert got == {"helpers": 1, "alive": 0}


def test_no_early_fork_beside_other_threads():
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not early.can_fork() and not early.start(2)
    finally:
        stop.set()
        t.join()


def test_poses_so_far_are_the_start_of_the_clip(real_clips):
    clip = real_clip(real_clips, "squat/v_BodyWeightSquats_g25_c07.mp4")
    seen = []
    seq = extract_pose(clip, PoseSettings(), on_poses=lambda so_far: seen.append(so_far()))
    assert len(seen) >= 3 and seen[-1].num_frames == seq.num_frames
    for part in seen:
        n = part.num_frames
        np.testing.assert_array_equal(part.times, seq.times[:n])
        np.testing.assert_array_equal(part.landmarks, seq.landmarks[:n])
        assert part.meta["width"] == seq.meta["width"]
