"""Push-up form check: interpretable per-clip body cues and a small logistic model.

Cues (from the 3D world landmarks, on the better-seen side of the body):

- ``hip_sag``: how far the hips drop below the straight shoulder-ankle line, in
  torso lengths (positive = sagging, negative = hips piked up); median over the
  clip and at the bottom of the push-up.
- ``body_line``: the shoulder-hip-ankle angle (180 = a straight plank).
- ``elbow_min``/``elbow_max``: how deep the elbows bend and whether the arms lock out.
- ``shoulder_travel``: range of motion of the shoulders, in torso lengths.
- ``head_drop``: the head hanging below (or craned above) the body line.
- ``knee_angle``: knees straight (180) or bent / on the floor.

The same body cues are also measured per view, in the image plane (``img_``) and in
the world landmarks (``world_``): hip bend (sag +, pike -) over the clip, at the
bottom and top of each rep and on the way down and up; knee bend; head bend;
elbow angle and chest height at the bottom and top; chest travel; how far the hips
travel relative to the chest; and whether hips and shoulders move together as one
plank (``hip_shoulder_sync``, ``hip_out_of_step``).

The model is a standardized logistic regression stored as JSON in the package
(``assets/pushup_form.json``): weights per cue, each held to the sign of its cue's
own correlation with 'wrong', so the cues it uses can be read off and said in words.
Grouped cross-validation (bench/form.py, bench/results/form.md): about 0.67 accuracy, about 0.69
leaving each source out. Measures in the body's own frame, which no view changes (``bodyline``), score
about the same and are not used here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workout_classifier.learn.features import interpolate_missing
from workout_classifier.pose.landmarks import NoPersonError, PoseSequence

FORM_MODEL = Path(__file__).parents[1] / "assets" / "pushup_form.json"
SIDES = {"left": (11, 13, 15, 23, 25, 27, 7), "right": (12, 14, 16, 24, 26, 28, 8)}
CLIP_FEATURES = (
    "hip_sag_median", "hip_sag_bottom", "hip_sag_max", "body_line_median", "body_line_min",
    "elbow_min", "elbow_max", "elbow_range", "shoulder_travel", "head_drop_median",
    "head_drop_bottom", "knee_angle_median",
)  # fmt: skip
# The same body cues measured twice: in the image plane ("img_", side-view geometry as the
# camera sees it) and in the 3D world landmarks ("world_"); neither is reliable on every clip.
_PER_VIEW = (
    "hip_bend", "hip_bend_abs", "hip_bend_p90", "hip_bend_p10", "hip_bend_bottom", "hip_bend_top",
    "knee_bend", "head_bend", "head_bend_bottom", "elbow_bottom", "elbow_top", "chest_bottom",
    "chest_top", "chest_travel", "hip_travel_ratio", "hip_shoulder_sync", "hip_bend_up",
    "hip_bend_down", "hip_bend_iqr", "hip_out_of_step",
)  # fmt: skip
FEATURES = CLIP_FEATURES + tuple(f"{v}_{k}" for v in ("img", "world") for k in _PER_VIEW)
# Words for the cues measured in both views (see _PER_VIEW); the clip cues reuse the shared ones.
_VIEW_WORDS = {
    "hip_bend": ("hips sag below the line from shoulders to ankles", "hips are piked up too high"),
    "hip_bend_abs": ("body is not one straight line (hips sag or pike)", "body is held in one straight line"),
    "hip_bend_p90": ("hips sag at some point of the rep", "hips never drop below the body line"),
    "hip_bend_p10": ("hips stay low through the whole rep: lift them in line", "hips pike up at some point of the rep"),
    "hip_bend_bottom": ("hips drop at the bottom of the push-up", "hips pike up at the bottom"),
    "hip_bend_top": ("hips sag at the top of the push-up", "hips pike up at the top"),
    "knee_bend": ("knees are bent: keep the legs straight", "legs are straight"),
    "head_bend": ("head hangs down: keep the neck in line with the back", "head is craned up"),
    "head_bend_bottom": ("head drops at the bottom: lead with the chest, not the chin", "head lifts at the bottom"),
    "elbow_bottom": ("not going deep enough: bend the elbows more",
                     "elbows fold very deep: the body sinks to the floor at the bottom"),
    "elbow_top": ("arms lock out at the top", "arms do not straighten at the top"),
    "chest_bottom": ("chest stays high at the bottom: go lower", "chest goes low at the bottom"),
    "chest_top": ("shoulders rise well above the hands at the top", "shoulders stay low at the top: push all the way up"),
    "chest_travel": ("chest travels a long way", "short range of motion: lower the chest further"),
    "hip_travel_ratio": ("hips bob up and down more than the chest: keep the body rigid",
                         "hips stay up while the chest moves: lower the whole body together"),
    "hip_shoulder_sync": ("hips and shoulders rise and fall together",
                          "hips and shoulders do not move together: move as one plank"),
    "hip_bend_up": ("hips sag on the way up: the chest comes up before the hips", "hips pike on the way up"),
    "hip_bend_down": ("hips sag on the way down", "hips pike on the way down"),
    "hip_bend_iqr": ("the hip angle keeps changing during the rep: hold the plank", "the body line stays the same"),
    "hip_out_of_step": ("hips move out of step with the shoulders: keep the body rigid",
                        "hips move in step with the shoulders"),
}  # fmt: skip
# Words a trainee understands for each cue: (when the value is high, when it is low).
CUE_WORDS = {
    "hip_sag_median": _VIEW_WORDS["hip_bend"],
    "hip_sag_bottom": _VIEW_WORDS["hip_bend_bottom"],
    "hip_sag_max": ("hips sag at some point of the rep", "hips stay piked up"),
    "body_line_median": ("body is held straight", "body bends at the hips: keep one straight line"),
    "body_line_min": ("body stays straight", "body folds at the hips during the rep"),
    "elbow_min": ("not going deep enough: bend the elbows more", "elbows fold very deep: the body sinks to the floor"),
    "elbow_max": _VIEW_WORDS["elbow_top"],
    "elbow_range": ("very large elbow movement", "short range of motion: go lower and push all the way up"),
    "shoulder_travel": ("chest travels a long way", "chest barely moves: lower the whole body further"),
    "head_drop_median": _VIEW_WORDS["head_bend"],
    "head_drop_bottom": _VIEW_WORDS["head_bend_bottom"],
    "knee_angle_median": ("legs are straight", "knees are bent: keep the legs straight"),
}  # fmt: skip
CUE_WORDS.update({f"{v}_{k}": w for v in ("img", "world") for k, w in _VIEW_WORDS.items()})


def _angle(a: np.ndarray, v: np.ndarray, b: np.ndarray) -> np.ndarray:
    u, w = a - v, b - v
    cos = (u * w).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1) + 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _line_offset(p: np.ndarray, a: np.ndarray, b: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Signed distance of p from the line a-b along `down` (positive = below the line)."""
    ab = b - a
    t = ((p - a) * ab).sum(-1) / ((ab * ab).sum(-1) + 1e-9)
    foot = a + t[:, None] * ab
    return ((p - foot) * down).sum(-1)


def form_features(seq: PoseSequence) -> dict[str, float]:
    """Per-clip cues for one push-up clip. Raises NoPersonError when nobody is visible."""
    det = np.asarray(seq.detected, bool)
    if det.sum() < 2:
        raise NoPersonError("no person visible in the video")
    w = interpolate_missing(seq.world.astype(np.float64), det)
    vis = np.nan_to_num(seq.landmarks[det, :, 3]).mean(0)
    side = max(SIDES, key=lambda s: vis[list(SIDES[s][:6])].mean())
    sh, el, wr, hip, kn, an, ear = (w[:, j, :3] for j in SIDES[side])
    torso = float(np.median(np.linalg.norm(sh - hip, axis=-1))) or 1.0
    down = np.array([0.0, 1.0, 0.0])  # world y points down
    sag = _line_offset(hip, sh, an, down) / torso
    head = _line_offset(ear, hip, sh, down) / torso
    line = _angle(sh, hip, an)
    elbow = _angle(sh, el, wr)
    knee = _angle(hip, kn, an)
    # Shoulder height relative to the wrists: large at the top, small at the bottom.
    height = -((sh - wr) * down).sum(-1) / torso
    bottom = int(np.argmin(height))
    lo = max(bottom - 2, 0)
    sl = slice(lo, bottom + 3)
    out = {
        "hip_sag_median": float(np.median(sag)),
        "hip_sag_bottom": float(np.mean(sag[sl])),
        "hip_sag_max": float(np.percentile(sag, 95)),
        "body_line_median": float(np.median(line)),
        "body_line_min": float(np.percentile(line, 5)),
        "elbow_min": float(np.percentile(elbow, 5)),
        "elbow_max": float(np.percentile(elbow, 95)),
        "elbow_range": float(np.percentile(elbow, 95) - np.percentile(elbow, 5)),
        "shoulder_travel": float(np.percentile(height, 95) - np.percentile(height, 5)),
        "head_drop_median": float(np.median(head)),
        "head_drop_bottom": float(np.mean(head[sl])),
        "knee_angle_median": float(np.median(knee)),
    }
    out.update(_view_cues(seq, det, SIDES[side]))
    return out


def _signed_bend(a: np.ndarray, v: np.ndarray, b: np.ndarray, down: np.ndarray) -> np.ndarray:
    """180 - angle a-v-b in degrees; positive when v lies below the line a-b (sag), negative above (pike)."""
    return (180 - _angle(a, v, b)) * np.sign(_line_offset(v, a, b, down))


def _view_cues(seq: PoseSequence, det: np.ndarray, joints: tuple[int, ...]) -> dict[str, float]:
    """The per-view cues of ``_PER_VIEW``, in the image plane and in world coordinates.

    Tops and bottoms of the reps are the peaks and troughs of the shoulder height above
    the wrists; cues there are medians over the reps. Heights are in arm lengths.
    """
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks

    aspect = float(seq.meta.get("width") or 1) / float(seq.meta.get("height") or 1)
    img = interpolate_missing(seq.landmarks[..., :2].astype(np.float64), det)
    img[..., 0] *= aspect
    world = interpolate_missing(seq.world[..., :3].astype(np.float64), det)
    out: dict[str, float] = {}
    for view, pts, down in (
        ("img", img, np.array([0.0, 1.0])),
        ("world", world, np.array([0.0, 1.0, 0.0])),
    ):
        smooth = gaussian_filter1d(pts, 1.0, axis=0, mode="nearest")
        sh, el, wr, hip, kn, an, ear = (smooth[:, j] for j in joints)
        arm = (
            float(np.median(np.linalg.norm(sh - el, axis=-1) + np.linalg.norm(el - wr, axis=-1)))
            + 1e-6
        )
        hip_bend = _signed_bend(sh, hip, an, down)
        head_bend = _signed_bend(hip, sh, ear, down)
        elbow = _angle(sh, el, wr)
        chest = ((wr - sh) * down).sum(-1) / arm  # shoulder height above the wrists
        hips = ((an - hip) * down).sum(-1) / arm  # hip height above the ankles
        travel = float(np.percentile(chest, 95) - np.percentile(chest, 5))
        bottoms = find_peaks(-chest, prominence=max(0.3 * travel, 0.05))[0]
        tops = find_peaks(chest, prominence=max(0.3 * travel, 0.05))[0]
        bottoms = bottoms if len(bottoms) else np.array([int(np.argmin(chest))])
        tops = tops if len(tops) else np.array([int(np.argmax(chest))])
        sync = float(np.corrcoef(chest, hips)[0, 1]) if chest.std() > 0 and hips.std() > 0 else 0.0
        # Phases from the slightly smoother shoulder height: rising (way up) and falling (way down).
        rough = gaussian_filter1d(pts, 1.5, axis=0, mode="nearest")
        sh2, wr2, hip2, an2 = (rough[:, joints[i]] for i in (0, 2, 3, 5))
        chest2 = ((wr2 - sh2) * down).sum(-1) / arm
        hips2 = ((an2 - hip2) * down).sum(-1) / arm
        bend2 = _signed_bend(sh2, hip2, an2, down)
        vel = np.gradient(chest2) if len(chest2) > 1 else np.zeros_like(chest2)
        cut = np.percentile(np.abs(vel), 30)
        up, dn = vel > cut, vel < -cut
        a, b = chest2 - chest2.mean(), hips2 - hips2.mean()
        # How much of the hip movement is not a fixed share of the shoulder movement (a rigid plank).
        out_of_step = (
            float((b - a * (a @ b) / (a @ a)).std() / (a.std() + 1e-6)) if a.std() > 0 else 0.0
        )
        vals = {
            "hip_bend": np.median(hip_bend), "hip_bend_abs": np.median(np.abs(hip_bend)),
            "hip_bend_p90": np.percentile(hip_bend, 90), "hip_bend_p10": np.percentile(hip_bend, 10),
            "hip_bend_bottom": np.median(hip_bend[bottoms]), "hip_bend_top": np.median(hip_bend[tops]),
            "knee_bend": np.median(180 - _angle(hip, kn, an)), "head_bend": np.median(head_bend),
            "head_bend_bottom": np.median(head_bend[bottoms]), "elbow_bottom": np.median(elbow[bottoms]),
            "elbow_top": np.median(elbow[tops]), "chest_bottom": np.median(chest[bottoms]),
            "chest_top": np.median(chest[tops]), "chest_travel": travel,
            "hip_travel_ratio": (np.percentile(hips, 95) - np.percentile(hips, 5)) / (travel + 1e-6),
            "hip_shoulder_sync": sync,
            "hip_bend_up": np.median(bend2[up]) if up.any() else 0.0,
            "hip_bend_down": np.median(bend2[dn]) if dn.any() else 0.0,
            "hip_bend_iqr": np.percentile(hip_bend, 75) - np.percentile(hip_bend, 25),
            "hip_out_of_step": out_of_step,
        }  # fmt: skip
        out.update({f"{view}_{k}": float(v) for k, v in vals.items()})
    return out


def feature_matrix(seqs: list[PoseSequence]) -> np.ndarray:
    return np.array([[form_features(s)[k] for k in FEATURES] for s in seqs], dtype=np.float64)


@dataclass
class FormModel:
    """Standardized logistic regression: P(wrong form) = sigmoid(w . (x - mean) / std + b)."""

    mean: np.ndarray
    std: np.ndarray
    coef: np.ndarray
    intercept: float
    features: tuple[str, ...] = FEATURES
    info: dict | None = None

    def proba_wrong(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.mean) / self.std
        return 1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept)))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each cue's push toward 'wrong' (positive) or 'correct' (negative), in logits."""
        return (np.asarray(x) - self.mean) / self.std * self.coef

    def to_json(self) -> dict:
        return {"format": "workout-classifier/pushup-form/1", "features": list(self.features),
                "mean": self.mean.tolist(), "std": self.std.tolist(), "coef": self.coef.tolist(),
                "intercept": float(self.intercept), "info": self.info or {}}  # fmt: skip

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def load(cls, path: str | Path | None = None) -> FormModel:
        d = json.loads(Path(path or FORM_MODEL).read_text())
        if d.get("format") != "workout-classifier/pushup-form/1":
            raise ValueError(f"not a push-up form model: {path}")
        return cls(np.array(d["mean"]), np.array(d["std"]), np.array(d["coef"]), float(d["intercept"]),
                   tuple(d["features"]), d.get("info"))  # fmt: skip


def fit_form_model(x: np.ndarray, wrong: np.ndarray, c: float = 0.3, info: dict | None = None,
                   same_sign: bool = True) -> FormModel:  # fmt: skip
    """Class-balanced, L2-penalized (strength 1/c) logistic regression on standardized cues.

    With ``same_sign`` each cue's weight is held to the sign of that cue's own correlation
    with 'wrong' in the training data (or zero), so that no cue is used backwards to offset
    a correlated one: a cue the model names always points the way it reads in words.
    """
    from scipy.optimize import minimize

    x, t = np.asarray(x, np.float64), np.asarray(wrong, bool)
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / std
    sample_w = np.where(t, 0.5 / max(t.mean(), 1e-9), 0.5 / max(1 - t.mean(), 1e-9))
    tf = t.astype(np.float64)

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = p[:-1], p[-1]
        a = z @ w + b
        g = sample_w * (1 / (1 + np.exp(-a)) - tf)
        value = float((sample_w * (np.logaddexp(0, a) - tf * a)).sum() + 0.5 / c * w @ w)
        return value, np.append(z.T @ g + w / c, g.sum())

    bounds = [(None, None)] * (z.shape[1] + 1)
    if same_sign:
        zc, tc = z - z.mean(0), tf - tf.mean()
        corr = zc.T @ tc
        bounds = [(0.0, None) if r > 0 else (None, 0.0) for r in corr] + [(None, None)]
    res = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return FormModel(mean, std, res.x[:-1], float(res.x[-1]), FEATURES, info)


class FormClassifier:
    """``fit_form_model`` as a scikit-learn style estimator (fit / predict), for cross-validation."""

    def __init__(self, c: float = 0.3, same_sign: bool = True):
        self.c, self.same_sign = c, same_sign

    def fit(self, x: np.ndarray, wrong: np.ndarray) -> FormClassifier:
        self.model_ = fit_form_model(x, wrong, self.c, same_sign=self.same_sign)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model_.proba_wrong(x) >= 0.5


def check_form(seq: PoseSequence, model: FormModel | None = None, n_cues: int = 2) -> dict:
    """{form: 'correct'|'wrong', form_confidence, form_cues: [words]} for one push-up clip."""
    model = model or _default_model()
    f = form_features(seq)
    x = np.array([f[k] for k in model.features])
    p = float(model.proba_wrong(x)[0])
    verdict = "wrong" if p >= 0.5 else "correct"
    contrib = model.contributions(x)
    cues = []
    if verdict == "wrong":
        for i in np.argsort(-contrib):
            if contrib[i] <= 0 or len(cues) >= n_cues:
                break
            z = (x[i] - model.mean[i]) / model.std[i]
            words = CUE_WORDS[model.features[i]][0 if z > 0 else 1]
            if words not in cues:  # the image-plane and world versions of a cue say the same
                cues.append(words)
    return {"form": verdict, "form_confidence": round(max(p, 1 - p), 4), "form_cues": cues,
            "form_measures": {k: round(v, 3) for k, v in f.items()}}  # fmt: skip


_CACHE: dict = {}


def _default_model() -> FormModel:
    if "m" not in _CACHE:
        _CACHE["m"] = FormModel.load(FORM_MODEL)
    return _CACHE["m"]
