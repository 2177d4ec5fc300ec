"""Push-up form cues on hand-built planks, the shipped form model, and odd input."""

import json

import numpy as np
import pytest

from workout_classifier.analysis.form import (
    FEATURES,
    FORM_MODEL,
    FormModel,
    check_form,
    fit_form_model,
    form_features,
)
from workout_classifier.pose.landmarks import NoPersonError, PoseSequence


def _pushup(
    sag: float = 0.0, seconds: float = 3.0, knee_bend: float = 0.0, seed: int = 0
) -> PoseSequence:
    """A side-view push-up in world coordinates (y down); `sag` drops the hips (metres)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 15)) / 15
    depth = (1 - np.cos(2 * np.pi * t / seconds)) / 2  # 0 top .. 1 bottom
    w = np.zeros((len(t), 33, 4))
    w[..., 3] = 0.9
    for side, dz in (("l", -0.15), ("r", 0.15)):
        o = 0 if side == "l" else 1
        wrist = np.array([0.0, 0.0, dz])
        shoulder = np.stack([np.zeros_like(t), -0.55 + 0.35 * depth, np.full_like(t, dz)], -1)
        ankle = np.array([1.5, -0.05, dz])
        hip = shoulder + (ankle - shoulder) * 0.35
        hip[:, 1] += sag
        knee = hip + (ankle - hip) * 0.5
        knee[:, 1] += knee_bend
        elbow = (shoulder + wrist) / 2 + np.stack(
            [0.12 * depth, np.zeros_like(t), np.zeros_like(t)], -1
        )
        for j, p in ((11, shoulder), (13, elbow), (15, wrist), (23, hip), (25, knee), (27, ankle)):
            w[:, j + o, :3] = p
        w[:, 7 + o, :3] = shoulder + np.array([-0.2, -0.05, 0])
    w[..., :3] += rng.normal(0, 0.003, w[..., :3].shape)
    img = w.copy()
    img[..., :2] = img[..., :2] * 0.3 + 0.5
    return PoseSequence(
        img.astype(np.float32),
        w.astype(np.float32),
        t,
        np.ones(len(t), bool),
        {"width": 640, "height": 480},
    )


def test_hip_sag_and_bent_knees_are_measured():
    straight = form_features(_pushup())
    sagging = form_features(_pushup(sag=0.12))
    assert sagging["hip_sag_median"] > straight["hip_sag_median"] + 0.1
    assert sagging["body_line_median"] < straight["body_line_median"]
    assert (
        form_features(_pushup(knee_bend=0.1))["knee_angle_median"]
        < straight["knee_angle_median"] - 5
    )
    assert set(straight) == set(FEATURES) and all(np.isfinite(list(straight.values())))


def test_shipped_model_loads_and_answers():
    assert FORM_MODEL.stat().st_size < 50_000
    m = FormModel.load()
    assert m.features == FEATURES and m.coef.shape == (len(FEATURES),)
    res = check_form(_pushup(sag=0.15))
    assert res["form"] in ("correct", "wrong") and 0.5 <= res["form_confidence"] <= 1
    assert isinstance(res["form_cues"], list) and all(isinstance(c, str) for c in res["form_cues"])


def test_shipped_model_tells_a_sagging_push_up_from_a_straight_one():
    sagging, straight = check_form(_pushup(sag=0.15)), check_form(_pushup())
    assert sagging["form"] == "wrong" and any("hip" in c for c in sagging["form_cues"])
    assert straight["form"] == "correct"


def test_fit_roundtrip_and_cues_in_words(tmp_path):
    seqs = [_pushup(sag=s, seed=i) for i, s in enumerate([0, 0.01, 0.02, 0.15, 0.17, 0.2] * 2)]
    x = np.array([[form_features(s)[k] for k in FEATURES] for s in seqs])
    y = np.array([0, 0, 0, 1, 1, 1] * 2, bool)
    m = fit_form_model(x, y, c=1.0)
    m.save(tmp_path / "f.json")
    m2 = FormModel.load(tmp_path / "f.json")
    assert np.allclose(m.proba_wrong(x), m2.proba_wrong(x))
    bad = check_form(_pushup(sag=0.2, seed=99), m2)
    assert bad["form"] == "wrong" and any("hip" in c or "body" in c for c in bad["form_cues"])
    assert check_form(_pushup(sag=0.0, seed=98), m2)["form"] == "correct"


def test_not_a_form_model(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError):
        FormModel.load(tmp_path / "x.json")


def test_nobody_visible():
    s = _pushup()
    s.detected[:] = False
    with pytest.raises(NoPersonError):
        form_features(s)
