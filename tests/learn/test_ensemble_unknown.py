"""Late-fusion ensemble, temperature scaling and the `unknown` answer."""

from dataclasses import replace

import numpy as np
import pytest
from synth import synthetic_sequence, synthetic_tracks

from workout_classifier.learn.calibrate import apply_temperature, choose_threshold, fit_temperature
from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.learn.features import FeatureConfig
from workout_classifier.learn.models import create_model
from workout_classifier.learn.train import TrainConfig, fit
from workout_classifier.pose.landmarks import NUM_JOINTS, PoseSequence
from workout_classifier.predict import UNKNOWN, classify_sequence

FEATS = FeatureConfig(steps=24)
FAST = TrainConfig(epochs=12, patience=12, lr=3e-3, windows_per_clip=2, seed=0, threads=1)


@pytest.mark.neural
def test_ensemble_module_probabilities_sum_to_one():
    import torch

    torch.manual_seed(0)
    model = create_model("ensemble", num_classes=4, in_channels=5, steps=24).eval()
    p = torch.softmax(model(torch.randn(3, 24, 33, 5)), -1)
    assert p.shape == (3, 4)
    torch.testing.assert_close(p.sum(-1), torch.ones(3))


@pytest.mark.neural
def test_fitted_stream_ensemble_sums_to_one_and_round_trips(tmp_path):
    tracks, y, groups, classes = synthetic_tracks(n_per_class=4)
    specs = [
        {
            "model": "stgcn",
            "streams": ["joint", "bone"],
            "options": {"channels": [8, 8], "strides": [2, 1]},
        },
        {
            "model": "transformer",
            "streams": ["joint", "motion", "detect"],
            "options": {"dim": 16, "layers": 1},
        },
    ]
    clf, hist = fit(tracks, y, groups, classes, "ensemble", FEATS, TrainConfig(epochs=1, threads=1),
                    {"members": specs})  # fmt: skip
    assert clf.features.streams == ("joint", "bone", "motion", "detect")
    assert len(hist["members"]) == 2
    raw = np.stack([synthetic_sequence("jack", seed=5).landmarks[:24]] * 2)
    raw = np.concatenate([raw, raw], -1)  # (2, 24, V, 8) stand-in windows
    p = clf.predict_windows(raw, tta=True)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    clf.save(tmp_path / "ens.safetensors")
    back = Classifier.load(tmp_path / "ens.safetensors")
    np.testing.assert_allclose(back.predict_windows(raw), clf.predict_windows(raw), atol=1e-6)


def test_temperature_and_threshold_helpers():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    logits = rng.normal(0, 1, (400, 3))
    logits[np.arange(400), y] += 1.0
    true = apply_temperature(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), 1.0)
    overconfident = apply_temperature(true, 1 / 3)  # logits x3
    assert 2.3 < fit_temperature(overconfident, y) < 3.9
    np.testing.assert_allclose(apply_temperature(true, 2.0).sum(1), 1.0)
    thr = choose_threshold(true, 0.1)
    assert abs((true.max(1) < thr).mean() - 0.1) < 0.02


def noise_sequence(seconds=4.0, fps=15.0, seed=0) -> PoseSequence:
    """Landmarks scattered at random every frame: nothing like a person exercising."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fps)) / fps
    img = rng.uniform(0, 1, (len(t), NUM_JOINTS, 4)).astype(np.float32)
    world = rng.uniform(-1, 1, (len(t), NUM_JOINTS, 4)).astype(np.float32)
    meta = {"width": 640, "height": 480}
    return PoseSequence(img, world, t, np.ones(len(t), bool), meta)


# a network, and the shipped default kind
@pytest.mark.parametrize("name", [pytest.param("transformer", marks=pytest.mark.neural), "trees"])
def test_unknown_threshold_rejects_far_out_input(tmp_path, name):
    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    feats, options = (
        (FEATS, {"dim": 32, "layers": 1})
        if name == "transformer"
        else (replace(FEATS, streams=("raw",)), {})
    )
    clf, _ = fit(tracks, y, groups, classes, name, feats, replace(FAST, calibrate=True), options)
    assert 0 < clf.extra["temperature"] and 1 / 3 <= clf.extra["unknown_threshold"] < 1
    clf.save(tmp_path / "m.safetensors")
    clf = Classifier.load(tmp_path / "m.safetensors")
    assert "unknown_threshold" in clf.extra and "temperature" in clf.extra
    known = classify_sequence(synthetic_sequence("squat", seed=4242), clf)
    assert known["label"] == "squat"
    far = [classify_sequence(noise_sequence(seed=s), clf) for s in range(3)]
    assert all(r["label"] == UNKNOWN for r in far), [r["confidence"] for r in far]


@pytest.mark.parametrize("motion", ["standing", "turning"])
def test_gate_rejects_generated_everyday_movement_and_keeps_a_known_clip(motion):
    """A person standing or turning on the spot is no exercise: the trees' gate says `unknown`."""
    from everyday import everyday_sequence

    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    clf, _ = fit(
        tracks,
        y,
        groups,
        classes,
        "trees",
        replace(FEATS, streams=("raw",)),
        replace(FAST, calibrate=True),
    )
    base = synthetic_sequence("curl", seed=7)
    frame = 0  # the synthetic figure stands upright at rest
    assert classify_sequence(synthetic_sequence("squat", seed=4242), clf)["label"] == "squat"
    res = [classify_sequence(everyday_sequence(base, frame, motion, seed=s), clf) for s in range(3)]
    assert all(r["label"] == UNKNOWN for r in res), [(r["label"], r["confidence"]) for r in res]


@pytest.mark.parametrize("motion", ["standing", "walking", "turning", "sitting down"])
def test_resting_through_a_clip_is_unknown_whatever_the_model_says(motion):
    """posture's `resting` (live's rule) over every window overrides a confident label."""
    from everyday import everyday_sequence

    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    clf, _ = fit(
        tracks,
        y,
        groups,
        classes,
        "trees",
        replace(FEATS, streams=("raw",)),
        replace(FAST, calibrate=True),
    )
    clf.extra["unknown_threshold"] = 0.0  # the confidence gate never rejects
    squat = classify_sequence(synthetic_sequence("squat", seed=4242), clf)
    assert squat["label"] == "squat" and not squat["resting"]
    res = classify_sequence(
        everyday_sequence(synthetic_sequence("curl", seed=7), 0, motion, seed=1), clf
    )
    assert res["resting"] and res["label"] == UNKNOWN


def test_oof_threshold_leaves_room_for_resting_clips():
    from workout_classifier.learn.calibrate import calibrate_oof

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3) * 0.5, 400)
    y = probs.argmax(1)
    rest = np.zeros(400, bool)
    rest[:6] = True  # 1.5% answered `unknown` by the resting rule anyway
    clf = type("C", (), {"extra": {}})()
    thr = calibrate_oof(clf, probs, y, 0.03, resting=rest)["unknown_threshold"]
    conf = apply_temperature(probs, clf.extra["temperature"]).max(1)
    rejected = (conf < thr) | rest
    assert abs(rejected.mean() - 0.03) <= 0.005  # both together within the budget
    assert (
        thr < calibrate_oof(clf, probs, y, 0.03)["unknown_threshold"]
    )  # a lower bar than without them
    # Live's threshold: its own budget, only the resting clips counted first (no range or stance check).
    body = rest.copy()
    body[6:12] = True  # 1.5% more answered `unknown` by the body checks
    calibrate_oof(clf, probs, y, 0.01, resting=body, live_resting=rest)
    live = clf.extra["live_unknown_threshold"]
    assert (
        clf.extra["unknown_threshold"] < live
        and clf.extra["calibration"]["live_reject_rate"] == 0.03
    )
    assert abs(((conf < live) | rest).mean() - 0.03) <= 0.005


@pytest.mark.parametrize("move", ["squat", "curl", "jack"])
def test_exercise_windows_are_not_resting(move):
    """The resting rules (standing in place, sitting down among them) leave exercises alone."""
    from workout_classifier.analysis.posture import resting_windows
    from workout_classifier.learn.features import prepare, windows

    raw, _ = windows(prepare(synthetic_sequence(move, seconds=8, seed=3)), FEATS)
    assert not resting_windows(raw).any()


def test_jumping_jack_drifting_sideways_is_not_walking():
    """Hips that travel across the frame with the hands overhead are a jumping jack, not walking."""
    from workout_classifier.analysis.posture import WALK_TRAVEL, resting_windows
    from workout_classifier.learn.features import prepare, windows

    raw, _ = windows(prepare(synthetic_sequence("jack", seconds=8, seed=3)), FEATS)
    drift = raw.copy()
    torso = abs((raw[:, :, 23, 1] - raw[:, :, 11, 1]).mean())  # in frame heights
    sway = np.linspace(0, 2 * WALK_TRAVEL * torso, raw.shape[1])  # well past walking's travel
    drift[..., 0] += sway[None, :, None]
    assert not resting_windows(drift).any()
