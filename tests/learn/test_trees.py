"""Pose trees: window summaries, trees copied exactly into numpy arrays, fitted through train.fit, saved and loaded."""

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier
from synth import synthetic_tracks

from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.learn.features import FeatureConfig, eval_windows
from workout_classifier.learn.models import count_parameters, create_model
from workout_classifier.learn.summary import window_summary
from workout_classifier.learn.train import TrainConfig, fit

FEATS = FeatureConfig(streams=("raw",))


@pytest.fixture(scope="module")
def windows():
    tracks, y, groups, classes = synthetic_tracks(n_per_class=6, seconds=9.0)
    raw, owner = eval_windows(tracks, FEATS)
    return raw, y[owner], owner, (tracks, y, groups, classes)


def test_summary_is_finite_fixed_size_and_tells_moves_apart(windows):
    raw, yw, _, _ = windows
    s = window_summary(raw)
    assert s.shape[0] == len(raw) and s.ndim == 2 and np.isfinite(s).all()
    assert window_summary(raw[:1, :1]).shape == (
        1,
        s.shape[1],
    )  # a one-frame window still has every block
    # Some statistic separates each pair of moves (the stick figure's moves differ a lot).
    for a in range(3):
        for b in range(a + 1, 3):
            gap = np.abs(s[yw == a].mean(0) - s[yw == b].mean(0)) / (s.std(0) + 1e-6)
            assert gap.max() > 1.0


def test_numpy_trees_match_scikit_learn(windows):
    raw, yw, owner, _ = windows
    weight = 1.0 / np.bincount(owner)[owner]
    model = create_model(
        "trees", num_classes=3, in_channels=8, trees=25, min_leaf=2, leaf_share=0.0, seed=3
    ).eval()
    model.fit_windows(raw, yw, weight)
    ref = ExtraTreesClassifier(
        n_estimators=25,
        min_samples_leaf=2,
        class_weight="balanced",
        max_features=0.1,
        random_state=3,
    )
    ref.fit(window_summary(raw), yw, sample_weight=weight)
    ours = np.exp(model(raw))
    # Leaf distributions are stored as float16: equal to scikit-learn's up to that rounding.
    np.testing.assert_allclose(ours, ref.predict_proba(window_summary(raw)), atol=2e-3)
    assert (
        count_parameters(model) == model.config.n_trees * model.config.nodes * 7
    )  # 4 node arrays + 3 classes


def test_fit_through_train_and_checkpoint_round_trip(windows, tmp_path):
    _, _, _, (tracks, y, groups, classes) = windows
    clf, hist = fit(tracks, y, groups, classes, "trees", FEATS, TrainConfig(seed=0), {"trees": 30})
    assert hist["train_acc"][0] > 0.9 and len(hist["val_acc"]) == 1
    raw, owner = eval_windows(tracks, FEATS)
    probs = clf.predict_windows(raw)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert (probs.argmax(1) == y[owner]).mean() > 0.9
    clf.save(tmp_path / "t.safetensors")
    back = Classifier.load(tmp_path / "t.safetensors")
    assert back.model.config.n_trees == 30 and back.model.feature.shape == clf.model.feature.shape
    np.testing.assert_allclose(back.predict_windows(raw), probs, atol=1e-6)


def test_trees_refuse_other_streams():
    with pytest.raises(ValueError, match="raw"):
        create_model("trees", num_classes=3, in_channels=11)


def test_a_class_missing_from_training_gets_probability_zero(windows):
    raw, yw, _, _ = windows
    keep = yw != 1
    model = create_model("trees", num_classes=3, in_channels=8, trees=10).eval()
    model.fit_windows(raw[keep], yw[keep])
    p = np.exp(model(raw))
    assert p[:, 1].max() < 1e-3
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-2)


def test_shipped_model_was_grown_on_the_summary_this_version_computes(windows):
    # A block added to summary.py shifts every feature index: the shipped model must be retrained
    # with it, and an older model file must refuse to answer rather than answer from the wrong columns.
    raw = windows[0][:2]
    clf = Classifier.load()
    assert clf.model_name == "trees"
    assert clf.model.config.summary_dim == window_summary(raw).shape[1]
    clf.model.config.summary_dim += 1
    with pytest.raises(ValueError, match="retrain"):
        clf.model(raw)


def test_leaves_hold_a_share_of_the_training_windows(windows):
    raw, yw, owner, _ = windows
    weight = 1.0 / np.bincount(owner)[owner]
    yw = np.random.default_rng(0).permutation(yw)  # labels as noise: leaves of 2 make deep trees
    small = create_model(
        "trees", num_classes=3, in_channels=8, trees=5, leaf_share=0.0, seed=0
    ).fit_windows(raw, yw, weight)
    big = create_model(
        "trees", num_classes=3, in_channels=8, trees=5, leaf_share=0.2, seed=0
    ).fit_windows(raw, yw, weight)
    # a leaf of at least 20% of the windows: far fewer nodes than leaves of 2
    assert big.config.nodes < small.config.nodes
    leaves = big.left == np.arange(big.config.nodes)[None]  # a leaf points to itself
    assert leaves.sum(1).max() <= 1 / 0.2 + 1


def test_the_asymmetry_block_tells_a_lunge_from_a_squat_whichever_side_leads():
    """The last block of the summary (|left - right| of the world pose) reads a split stance, and a
    mirror image (the other leg leading) gives the same block."""
    from synth import exercise_sequence

    from workout_classifier.learn.augment import mirror
    from workout_classifier.learn.features import prepare, windows

    def raw_of(exercise):
        return windows(prepare(exercise_sequence(exercise, reps=3, seed=1)), FEATS)[0]

    lunge, squat = raw_of("lunges"), raw_of("squat")
    extra = window_summary(lunge).shape[1] - window_summary(lunge, asymmetry=False).shape[1]
    assert extra > 0

    def block(raw):
        return window_summary(raw)[:, -extra:]

    assert (
        block(lunge).mean() > 1.5 * block(squat).mean()
    )  # the legs do different things (2.1x here)
    np.testing.assert_allclose(block(mirror(lunge)), block(lunge), atol=1e-4)


def test_a_model_file_from_before_a_summary_block_fails_at_load_in_one_line(tmp_path):
    from workout_classifier.learn.checkpoint import ModelFileError

    clf = Classifier.load()
    clf.model.config.summary_dim -= 72  # as a file written before the asymmetry block
    clf.save(tmp_path / "old.safetensors")
    with pytest.raises(
        ModelFileError, match=r"^model file .*trained on .* summary features.*retrain it"
    ):
        Classifier.load(tmp_path / "old.safetensors")
