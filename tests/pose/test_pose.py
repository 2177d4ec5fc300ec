"""Pose settings keys, the array contract's save/load, and the lean mediapipe import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence, PoseSettings


def test_settings_key_is_stable_and_type_blind():
    assert PoseSettings(fps=10).key() == PoseSettings(fps=10.0).key() == PoseSettings().key()
    assert PoseSettings(fps=15).key() != PoseSettings().key()
    assert PoseSettings(model_complexity=2).key() != PoseSettings().key()
    assert PoseSettings(fps=None).fps is None  # every frame
    assert PoseSettings(fps=0).key() == PoseSettings(fps=None).key()


def test_sequence_round_trip_keeps_nan_and_meta(tmp_path):
    t = 5
    lm = np.random.default_rng(0).random((t, NUM_JOINTS, 4)).astype(np.float32)
    det = np.array([True, False, True, True, False])
    lm[~det] = np.nan
    seq = PoseSequence(lm, lm.copy(), np.arange(t) / 15, det, {"fps": 30.0, "name": "é ü"})
    seq.save(tmp_path / "a.npz")
    assert not list(tmp_path.glob("*.tmp"))
    back = PoseSequence.load(tmp_path / "a.npz")
    assert np.array_equal(back.landmarks, lm, equal_nan=True)
    assert np.array_equal(back.detected, det) and back.meta == seq.meta
    assert back.detection_rate == pytest.approx(0.6)


def test_shapes_are_checked():
    with pytest.raises(AssertionError):
        PoseSequence(np.zeros((3, 32, 4)), np.zeros((3, 33, 4)), np.zeros(3), np.zeros(3, bool))


@pytest.mark.parametrize("preload", ["", "import matplotlib"])
def test_mediapipe_import_leaves_matplotlib_alone(preload):
    code = f"""
import sys
{preload}
from workout_classifier.pose.runner import import_mediapipe
mp = import_mediapipe()
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
assert hasattr(mp.solutions.pose, "Pose")
import matplotlib.pyplot as plt  # the real one still imports normally
assert mp.solutions.drawing_utils.plt.figure is plt.figure  # and the helpers reach it
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
