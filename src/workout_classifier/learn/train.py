"""Training: from prepared tracks and labels to a fitted Classifier.

The reference's Keras callbacks are reproduced: class weights, batch 16,
early stopping on validation loss, learning-rate reduction on plateau, and the
best checkpoint kept. Validation data for those callbacks is an inner grouped
split of the *training* clips, never the test fold. Augmentation and window
sampling happen per epoch, so no augmented copy exists outside training.

torch (the `neural` extra) is imported only for gradient-trained models;
fitted numpy models (trees) train without it.
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import asdict, dataclass, replace

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils.class_weight import compute_class_weight

from workout_classifier.frames.video import VideoError
from workout_classifier.learn.augment import augment, camera_augment, mirror
from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.learn.features import (
    FeatureConfig,
    Track,
    clip_probs,
    eval_windows,
    prepare,
    to_features,
    windows,
)
from workout_classifier.learn.models import NEURAL, create_model
from workout_classifier.pose.landmarks import NoPersonError

SPEED_FACTORS = (
    0.8,
    1.25,
)  # speed_copies: windows over a shorter and a longer span, resampled alike


@dataclass
class TrainConfig:
    epochs: int = 60
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 12  # early stopping: epochs without a better validation accuracy (or loss)
    lr_patience: int = 4
    lr_factor: float = 0.5
    label_smoothing: float = 0.0
    mixup: float = 0.0  # Beta(a, a) mixing of window pairs; 0 = off
    augment: bool = True
    windows_per_clip: int = 3
    val_fraction: float = 0.15
    class_weights: bool = True
    seed: int = 0
    threads: int = 0  # 0 = torch's default
    calibrate: bool = (
        False  # fit temperature + unknown threshold on the inner hold-out (calibrate.py)
    )
    # Models fitted on windows in one go (trees): camera-augmented copies of every training
    # window beside the original (features.camera_augment); 0 = originals only.
    camera_copies: int = 0
    # ... windows cut over a span 0.8x and then 1.25x the window's (the same motion done faster or
    # slower), up to this many; 0 = none.
    speed_copies: int = 0
    # ... and a left-right mirrored copy of every window (original and speed copies).
    mirror_copies: bool = False


def seed_everything(seed: int) -> np.random.Generator:
    import torch

    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def inner_split(y: np.ndarray, groups: np.ndarray, fraction: float, seed: int):
    """Grouped, stratified hold-out of about `fraction` of the clips (indices: train, val)."""
    n_splits = max(2, int(round(1 / fraction))) if fraction > 0 else 0
    # Small data: fewer, larger hold-outs rather than none; no hold-out when a class has < 2 clips everywhere.
    n_splits = min(n_splits, int(np.bincount(y).max()) if len(y) else 0, len(np.unique(groups)))
    if n_splits < 2:
        return np.arange(len(y)), np.array([], dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when a tiny class has < n_splits members
        sgkf = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        tr, va = next(sgkf.split(np.zeros(len(y)), y, groups))
    return tr, va


def fit(
    tracks: list[Track],
    y: np.ndarray,
    groups: np.ndarray,
    classes: list[str],
    model_name: str = "cnn-lstm",
    features: FeatureConfig = FeatureConfig(),
    config: TrainConfig = TrainConfig(),
    model_options: dict | None = None,
    log=None,
) -> tuple[Classifier, dict]:
    """Train one model. Returns (classifier, history with per-epoch curves)."""
    if model_name == "ensemble":  # members trained one by one, each on its own streams
        from workout_classifier.learn.models.ensemble import RECOMMENDED

        specs = (model_options or {}).get("members") or RECOMMENDED
        if "streams" in specs[0]:
            return fit_ensemble(tracks, y, groups, classes, specs, features, config, log)
    if (
        model_name in NEURAL
    ):  # seeded before the model is built: its initial weights come from torch's RNG
        import torch

        rng = seed_everything(config.seed)
        if config.threads:
            torch.set_num_threads(config.threads)
    y = np.asarray(y)
    k = len(classes)
    tr_idx, va_idx = inner_split(y, np.asarray(groups), config.val_fraction, config.seed)
    model = create_model(model_name, num_classes=k, in_channels=features.channels,
                         steps=features.steps, **(model_options or {}))  # fmt: skip
    if hasattr(model, "fit_windows"):  # fitted in one go, not trained by gradient (trees): no torch
        return _fit_direct(
            model, tracks, y, (tr_idx, va_idx), classes, model_name, features, config, model_options
        )
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, factor=config.lr_factor, patience=config.lr_patience
    )
    present = np.unique(y[tr_idx])
    weight = np.ones(k, dtype=np.float32)
    if config.class_weights:
        weight[present] = compute_class_weight("balanced", classes=present, y=y[tr_idx])
    weight_t = torch.tensor(weight)

    val = _clip_windows(tracks, y, va_idx, features) if len(va_idx) else None

    hist = {k_: [] for k_ in ("train_loss", "train_acc", "val_loss", "val_acc", "lr")}
    best = ((-np.inf, np.inf), None, 0)  # ((val accuracy, val loss), weights, epoch)
    t0 = time.perf_counter()
    for epoch in range(config.epochs):
        raws, ys = [], []
        for i in tr_idx:  # fresh windows each epoch: random crops with speed jitter
            r, _ = windows(tracks[i], features, rng=rng if config.augment else None,
                           max_windows=config.windows_per_clip)  # fmt: skip
            raws.append(r)
            ys.extend([y[i]] * len(r))
        raw = np.concatenate(raws)
        if config.augment:
            raw = augment(raw, rng)
        x_all = torch.from_numpy(to_features(raw, features.streams))
        y_all = torch.as_tensor(np.asarray(ys))
        model.train()
        perm = torch.from_numpy(rng.permutation(len(x_all)))
        tot, correct, seen = 0.0, 0, 0
        for b in range(0, len(perm), config.batch_size):
            idx = perm[b : b + config.batch_size]
            if len(idx) < 2:
                continue  # BatchNorm needs two samples
            xb, yb = x_all[idx], y_all[idx]
            if config.mixup > 0:
                lam = float(rng.beta(config.mixup, config.mixup))
                j = torch.from_numpy(rng.permutation(len(idx)))
                logits = model(lam * xb + (1 - lam) * xb[j])
                loss = lam * _ce(logits, yb, weight_t, config) + (1 - lam) * _ce(
                    logits, yb[j], weight_t, config
                )
            else:
                logits = model(xb)
                loss = _ce(logits, yb, weight_t, config)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            tot += loss.item() * len(idx)
            correct += int((logits.argmax(-1) == yb).sum())
            seen += len(idx)
        hist["train_loss"].append(tot / max(seen, 1))
        hist["train_acc"].append(correct / max(seen, 1))
        hist["lr"].append(opt.param_groups[0]["lr"])
        if val is not None:
            vl, va = _validate(model, val, weight_t, config)
        else:
            vl, va = hist["train_loss"][-1], hist["train_acc"][-1]
        hist["val_loss"].append(vl)
        hist["val_acc"].append(va)
        sched.step(vl)
        # Keep the epoch that answers most validation clips right (the lower loss among equals): the
        # class-weighted loss can rise from the first epochs on while accuracy still climbs.
        if va > best[0][0] + 1e-9 or (abs(va - best[0][0]) <= 1e-9 and vl < best[0][1] - 1e-4):
            best = ((va, vl), copy.deepcopy(model.state_dict()), epoch)
        if log:
            log(f"epoch {epoch + 1:3d}  loss {hist['train_loss'][-1]:.3f}  acc {hist['train_acc'][-1]:.3f}  "
                f"val_loss {vl:.3f}  val_acc {va:.3f}")  # fmt: skip
        if epoch - best[2] >= config.patience:
            break
    if best[1] is not None:
        model.load_state_dict(best[1])
    hist["best_epoch"] = best[2] + 1
    hist["seconds"] = time.perf_counter() - t0
    return _finish(
        model, tracks, y, va_idx, classes, model_name, features, config, model_options
    ), hist


def _fit_direct(model, tracks, y, split, classes, model_name, features, config, model_options):
    """Fit a model with `fit_windows` on every window of the training clips; same hold-out and outputs as fit."""
    tr_idx, va_idx = split
    if not config.calibrate:  # nothing is fitted on the hold-out: use every clip
        tr_idx, va_idx = np.sort(np.concatenate([tr_idx, va_idx])), np.array([], dtype=int)
    t0 = time.perf_counter()
    fitted = _clip_windows(tracks, y, tr_idx, features)
    owner = fitted[1]
    raw, labels = fitted[3], y[tr_idx][owner]
    weight = 1.0 / np.bincount(owner)[owner]  # each clip counts once, however many windows it has
    for f in SPEED_FACTORS[: config.speed_copies]:
        stretched = replace(features, window_seconds=features.window_seconds * f,
                            hop_seconds=features.hop_seconds * f)  # fmt: skip
        r, o = eval_windows([tracks[i] for i in tr_idx], stretched)
        raw, labels = np.concatenate([raw, r]), np.concatenate([labels, y[tr_idx][o]])
        weight = np.concatenate([weight, 1.0 / np.bincount(o)[o]])
    if config.mirror_copies:
        raw, labels, weight = (
            np.concatenate([raw, mirror(raw)]),
            np.tile(labels, 2),
            np.tile(weight, 2),
        )
    if config.camera_copies:
        rng = np.random.default_rng(config.seed)
        views = [camera_augment(raw, rng) for _ in range(config.camera_copies)]
        raw = np.concatenate([raw, *views])
        labels, weight = np.tile(labels, 1 + len(views)), np.tile(weight, 1 + len(views))
    model.fit_windows(raw, labels, weight)
    train_loss, train_acc = _validate_numpy(model, fitted)
    val_loss, val_acc = (_validate_numpy(model, _clip_windows(tracks, y, va_idx, features))
                         if len(va_idx) else (float("nan"), float("nan")))  # fmt: skip
    hist = {"train_loss": [train_loss], "train_acc": [train_acc], "val_loss": [val_loss], "val_acc": [val_acc],
            "lr": [0.0], "best_epoch": 1, "seconds": time.perf_counter() - t0}  # fmt: skip
    return _finish(
        model, tracks, y, va_idx, classes, model_name, features, config, model_options
    ), hist


def _clip_windows(tracks, y, idx, features):
    """All windows of the clips `idx`: (features (W, T, V, C), owner clip (W,), clip labels, raw windows)."""
    raw, owner = eval_windows([tracks[i] for i in idx], features)
    return to_features(raw, features.streams), owner, y[idx], raw


def _finish(
    model, tracks, y, va_idx, classes, model_name, features, config, model_options
) -> Classifier:
    """The trained model as a Classifier, calibrated on the inner hold-out when asked."""
    extra = {"train_config": asdict(config), "model_options": model_options or {}}
    clf = Classifier(model, model_name, classes, features, extra)
    if config.calibrate and len(va_idx):
        from workout_classifier.learn.calibrate import calibrate

        calibrate(clf, [tracks[i] for i in va_idx], y[va_idx])
    return clf


def _ce(logits, y, weight, config: TrainConfig):
    import torch.nn.functional as F

    return F.cross_entropy(logits, y, weight=weight, label_smoothing=config.label_smoothing)


def _validate(model, val, weight, config: TrainConfig) -> tuple[float, float]:
    import torch
    import torch.nn.functional as F

    x, owner, y_clip = val[:3]
    x = torch.from_numpy(x)
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i : i + 256]) for i in range(0, len(x), 256)])
    y_win = torch.as_tensor(y_clip[owner])
    loss = float(F.cross_entropy(logits, y_win, weight=weight))
    probs = clip_probs(torch.softmax(logits, -1).numpy(), owner, len(y_clip))
    return loss, float((probs.argmax(1) == y_clip).mean())


def _validate_numpy(model, val) -> tuple[float, float]:
    """`_validate` for a numpy model, unweighted: window cross-entropy and clip accuracy."""
    x, owner, y_clip = val[:3]
    logits = np.concatenate([model(x[i : i + 256]) for i in range(0, len(x), 256)])
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))  # log-softmax, as cross_entropy applies
    loss = float(-logp[np.arange(len(logp)), y_clip[owner]].mean())
    probs = clip_probs(np.exp(logp), owner, len(y_clip))
    return loss, float((probs.argmax(1) == y_clip).mean())


@dataclass
class TrainingSet:
    """Prepared clips ready for fit / cross_validate."""

    tracks: list[Track]
    y: np.ndarray
    groups: np.ndarray
    classes: list[str]
    names: list[str]
    skipped: list[dict]
    sources: np.ndarray | None = (
        None  # where each clip comes from (dataset.Clip.source), for protocol 'source'
    )


def load_training_set(clips, cache, classes: list[str] | None = None) -> TrainingSet:
    """Read cached poses of `clips` (dataset.Clip); clips that failed or show nobody are skipped with a reason."""
    tracks, labels, groups, names, skipped, sources = [], [], [], [], [], []
    for c in clips:
        try:
            tracks.append(prepare(cache.load(c.path)))
        except (VideoError, NoPersonError, KeyError) as e:
            reason = (
                e.args[0] if isinstance(e, KeyError) else str(e)
            )  # KeyError's str() adds quotes
            skipped.append({"file": str(c.path), "reason": reason})
            continue
        labels.append(c.label)
        groups.append(c.group)
        names.append(c.name)
        sources.append(getattr(c, "source", "other"))
    classes = classes or sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    y = np.asarray([index[lab] for lab in labels], dtype=np.int64)
    return TrainingSet(tracks, y, np.asarray(groups), classes, names, skipped, np.asarray(sources))


def fit_ensemble(
    tracks, y, groups, classes, specs: list[dict], features=None, config=None, log=None
):
    """Train each member spec on its streams; return (Classifier of the fused model, history)."""
    from workout_classifier.learn.models.ensemble import build_ensemble, stream_channels

    features = features or FeatureConfig()
    config = config or TrainConfig()
    configs, states, hist = [], [], {"members": [], "seconds": 0.0}
    for k, s in enumerate(specs):
        feats = replace(features, streams=tuple(s["streams"]))
        cfg = replace(config, **{**s.get("train", {}), "calibrate": False})
        # A member's own epochs are its tuned budget; a smaller budget asked by the caller still wins.
        cfg = replace(
            cfg, epochs=min(cfg.epochs, config.epochs), patience=min(cfg.patience, config.patience)
        )
        clf, h = fit(
            tracks, y, groups, classes, s["model"], feats, cfg, s.get("options") or {}, log=log
        )
        configs.append(asdict(clf.model.config))
        states.append(clf.model.state_dict())
        hist["members"].append(
            {"model": s["model"], "streams": list(s["streams"]), "best_epoch": h["best_epoch"]}
        )
        hist["seconds"] += h["seconds"]
        if k == 0:  # curves of the first member stand for the ensemble's in reports
            hist.update(
                {key: v for key, v in h.items() if isinstance(v, list) or key == "best_epoch"}
            )
    model = build_ensemble(specs, len(classes), features.steps, configs)
    for member, state in zip(model.members, states, strict=True):
        member.load_state_dict(state)
    feats = replace(features, streams=stream_channels(specs)[0])
    clf = Classifier(model, "ensemble", classes, feats,
                     {"train_config": asdict(config), "model_options": {"members": specs}})  # fmt: skip
    if config.calibrate:  # on the inner hold-out every member also validated on
        from workout_classifier.learn.calibrate import calibrate

        _, va = inner_split(np.asarray(y), np.asarray(groups), config.val_fraction, config.seed)
        if len(va):
            calibrate(clf, [tracks[i] for i in va], np.asarray(y)[va])
    return clf, hist
