"""Splits, training, cross-validation and prediction end to end on synthetic landmarks."""

import numpy as np
import pytest
from synth import MOVES, synthetic_sequence, synthetic_tracks

from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.learn.evaluate import cross_validate, make_splits, rare_classes
from workout_classifier.learn.features import FeatureConfig
from workout_classifier.learn.report import write_report
from workout_classifier.learn.train import TrainConfig, fit, inner_split
from workout_classifier.predict import UNKNOWN, answer, classify_sequence

FAST = TrainConfig(epochs=20, patience=20, lr=3e-3, windows_per_clip=2, seed=0, threads=1)
FEATS = FeatureConfig(steps=24)


def test_grouped_splits_never_share_a_group():
    rng = np.random.default_rng(0)
    groups = np.array([f"g{i // 3}" for i in range(90)])
    y = np.array([int(g[1:]) % 3 for g in groups])
    rng.shuffle(groups)
    for tr, te in make_splits(y, groups, 5, "grouped", seed=1):
        assert not set(groups[tr]) & set(groups[te])
        assert len(set(tr) | set(te)) == 90
    tr, va = inner_split(y, groups, 0.2, seed=0)
    assert not set(groups[tr]) & set(groups[va]) and len(va) > 0


def test_seed_protocol_is_plain_kfold_and_splits_are_seeded():
    y = np.repeat([0, 1], 20)
    groups = np.repeat(np.arange(4), 10)
    a = make_splits(y, groups, 5, "seed", seed=3)
    b = make_splits(y, groups, 5, "seed", seed=3)
    assert all((x[1] == z[1]).all() for x, z in zip(a, b, strict=False))
    # Plain k-fold puts clips of one group on both sides; that is why it is not the default.
    assert any(set(groups[tr]) & set(groups[te]) for tr, te in a)
    with pytest.raises(ValueError, match="unknown protocol"):
        make_splits(y, groups, 5, "bogus", 0)


def test_rare_classes_are_flagged():
    y = np.array([0] * 10 + [1] * 2)
    groups = np.array([f"a{i}" for i in range(10)] + ["b0", "b1"])
    assert rare_classes(y, groups, ["many", "few"], 5, "grouped") == ["few"]


@pytest.mark.neural
def test_fit_learns_synthetic_moves_and_predicts():
    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    clf, hist = fit(tracks, y, groups, classes, "cnn-lstm", FEATS, FAST)
    assert len(hist["train_loss"]) >= 1 and np.isfinite(hist["train_loss"]).all()
    correct = 0
    for k, move in enumerate(MOVES):
        for s in range(3):
            res = classify_sequence(synthetic_sequence(move, seed=9000 + 10 * k + s), clf)
            correct += res["label"] == move
            assert abs(sum(t["probability"] for t in res["top"]) - 1) < 1e-3
    assert correct >= 7  # of 9: an untrained model gets ~3


@pytest.mark.neural
def test_cross_validate_and_report(tmp_path):
    tracks, y, groups, classes = synthetic_tracks(n_per_class=8)
    res = cross_validate(tracks, y, groups, classes, "cnn-lstm", FEATS, FAST, folds=3)
    m = write_report(res, tmp_path)
    for key in ("protocol", "accuracy_mean", "accuracy_std", "macro_f1_mean", "folds", "per_class"):
        assert key in m
    assert m["protocol"] == "grouped" and len(m["folds"]) == 3
    assert sum(f["clips"] for f in m["folds"]) == len(y)
    assert m["accuracy_mean"] > 0.6
    for f in ("metrics.json", "report.md", "confusion_matrix.png", "training_curves.png"):
        assert (tmp_path / f).stat().st_size > 0
    assert "grouped" in (tmp_path / "report.md").read_text()


def test_unknown_below_threshold():
    probs = np.array([0.4, 0.35, 0.25])
    assert answer(probs, ["a", "b", "c"], 2, threshold=0.5)["label"] == UNKNOWN
    assert answer(probs, ["a", "b", "c"], 2, threshold=0.3)["label"] == "a"
    assert len(answer(probs, ["a", "b", "c"], 2, None)["top"]) == 2


@pytest.mark.neural
def test_saved_model_predicts_the_same(tmp_path):
    tracks, y, groups, classes = synthetic_tracks(n_per_class=4)
    clf, _ = fit(
        tracks, y, groups, classes, "cnn-lstm", FEATS, TrainConfig(epochs=2, seed=1, threads=1)
    )
    clf.save(tmp_path / "m.safetensors")
    seq = synthetic_sequence("jack", seed=77, seconds=11)
    a = classify_sequence(seq, clf)
    b = classify_sequence(seq, Classifier.load(tmp_path / "m.safetensors"))
    assert a["label"] == b["label"] and a["windows"] == b["windows"] == 5
    assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-4)


def test_source_protocol_never_puts_one_source_on_both_sides():
    from workout_classifier.learn.evaluate import source_splits

    y = np.repeat([0, 1, 2], 12)
    sources = np.array(
        (["ucf101"] * 8 + ["kaggle"] * 4) + ["pushfit"] * 12 + (["kaggle"] * 6 + ["other"] * 6)
    )
    groups = np.array(
        [f"{k}/{s}/{i // 2}" for i, (k, s) in enumerate(zip(y, sources, strict=True))]
    )
    folds = source_splits(y, groups, sources)
    assert [(k, s) for _, _, k, s in folds] == [
        (0, "kaggle"),
        (0, "ucf101"),
        (2, "kaggle"),
        (2, "other"),
    ]
    for tr, te, k, s in folds:
        assert set(zip(y[te], sources[te], strict=True)) == {
            (k, s)
        }  # one exercise's source is tested
        assert not ((y[tr] == k) & (sources[tr] == s)).any()  # and never trained on
        assert not set(groups[tr]) & set(groups[te])
    with pytest.raises(ValueError, match="two or more sources"):
        source_splits(y, groups, np.array(["x"] * 36))


def test_shipped_model_answers_by_reps_and_draws_the_timeline_on_time_windows():
    """The clip's answer votes over rep windows; the timeline reads evenly spaced time windows."""
    from workout_classifier.predict import timeline_windows

    clf = Classifier.load()
    assert clf.features.unit == "rep"
    seq = synthetic_sequence("squat", seconds=14, seed=3)
    res = classify_sequence(seq, clf)
    probs, starts, rest = timeline_windows(seq, clf)
    assert np.allclose(np.diff(starts)[:-1], clf.features.hop_seconds)  # 0, 2, 4, ... s
    end = starts[-1] + clf.features.window_seconds
    assert end == pytest.approx(seq.times[-1])  # and the last window ends at the clip's end
    assert probs.shape == (len(starts), len(clf.classes))
    assert res["windows"] != len(starts)  # one window per rep, not per 2 s hop
    assert rest.shape == starts.shape and not rest.any()  # a squat throughout: no rest
