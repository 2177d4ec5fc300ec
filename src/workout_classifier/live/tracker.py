"""Live tracking: frames one at a time in, the exercise, its sets and the rep count out, as they happen.

`LiveTracker` is one session's state (the CLI's `workout live` has one, each
camera socket of `workout serve` has its own). Per frame it runs MediaPipe Pose
in tracking mode (`pose.pose_frame`; with several people in view it follows the
exerciser, `person.StreamChoice`; a person too small for the whole frame is
looked for on tiles and tracked on a crop, `pose.zoom`, as extraction does) and
keeps the landmarks in a rolling buffer;
every `hop_seconds` of stream time it decides the exercise on the last
`window_seconds` of poses with the loaded `Classifier` (the same windows and
features as `predict`), then:

- a body that is resting (`posture`: upright and holding still or walking,
  standing in place with the hands down, sitting down) is ``resting``, whatever
  the model says (the model only knows exercises); a model answer below its
  calibrated threshold is ``unknown``;
- `sets.SetTracker` turns the stream of decisions into sets: a different exercise,
  held for `switch_seconds`, starts a new set; resting (or nobody, or unknown)
  for `rest_seconds` ends the current one;
- reps are counted per set by `replive.OnlineRepCounter`, made for the set's
  exercise (its profile of joint measures; a plank is timed instead) and fed the
  set's frames from its start, so live and offline counting are one
  implementation; a change of exercise closes the set and starts a new counter.

Everything here is plain numpy between stages; sources, pacing and drawing
live in `stream.py`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace

import numpy as np

from workout_classifier._quiet import silenced_stderr
from workout_classifier.analysis.posture import posture
from workout_classifier.analysis.replive import OnlineRepCounter
from workout_classifier.analysis.reps import HOLDS
from workout_classifier.learn.checkpoint import Classifier
from workout_classifier.learn.features import prepare, windows
from workout_classifier.live.sets import RESTING, LiveConfig, SetTracker
from workout_classifier.pose.landmarks import PoseSequence
from workout_classifier.pose.person import StreamChoice
from workout_classifier.pose.runner import _to_array, create_pose, pose_frame
from workout_classifier.pose.zoom import Zoom, view_to_full
from workout_classifier.predict import UNKNOWN, pose_settings_for


# ---- one session ----------------------------------------------------------------------------
def percentile(values, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


class LiveTracker:
    """One live session: feed `process(frame, t)` frames in time order; read `summary()` at the end.

    `t` is the frame's time in seconds (its timestamp in a file, or seconds since
    the session started for a camera). Not thread-safe: one tracker per stream.
    """

    def __init__(self, clf: Classifier, cfg: LiveConfig = LiveConfig()):
        self.clf, self.cfg = clf, cfg
        self.pose = None  # made on the first frame (see `process`)
        self.static = None  # the static-mode model of recovery and of the main-person look
        # Several people in view: follow the exerciser, as extraction does (when the model's pose
        # settings say so; person.StreamChoice decides a second after the look, not ahead).
        self.person = StreamChoice() if pose_settings_for(clf).main_person else None
        # A person too small for the whole frame (a phone at the back of the room): the same
        # tiles-then-crop as extraction (pose/zoom.py), looked for on the full-resolution frame.
        self.zoom = Zoom(pose_settings_for(clf).zoom)
        # The part of the picture a client sent last (`process`), None: the whole picture.
        self.part: tuple[float, ...] | None = None
        self._last_recover = -np.inf
        self.recovered = 0
        # Live's own threshold where the model file has one (calibrate.LIVE_REJECT_RATE: live does not
        # apply the whole-clip range and stance checks).
        self.threshold = clf.extra.get("live_unknown_threshold", clf.extra.get("unknown_threshold"))
        keep = int(cfg.buffer_seconds * 60)
        self.times: deque[float] = deque(maxlen=keep)
        self.rows: deque[np.ndarray] = deque(maxlen=keep)
        self.world: deque[np.ndarray] = deque(maxlen=keep)
        self.found: deque[bool] = deque(maxlen=keep)
        self.sets = SetTracker(cfg)
        self.counter: OnlineRepCounter | None = None  # the open set's
        self.size: tuple[int, int] | None = None  # (width, height) of the frames
        self.label: str | None = None
        self.confidence: float | None = None
        self.top: list[dict] = []
        self.posture: dict | None = None
        self.form_cues: list[str] = []
        self._last_decision = -np.inf
        self._last_form = -np.inf
        self.frames = 0
        self.decide_ms: list[float] = []

    def close(self) -> None:
        with silenced_stderr():  # the graphs' threads log as they shut down
            for model in (self.pose, self.static):
                if model is not None:
                    model.close()
        self.pose = self.static = None

    def warm_up(self) -> None:
        """Start the pose models now (a second or two), not on the first frame of the stream.

        A blank frame goes through each: MediaPipe opens its calculators on its own threads after
        `Pose()` returns and they log as they do, so once a frame is through the graph is up, and
        this block keeps its logs off the terminal.
        """
        blank = np.zeros((256, 256, 3), np.uint8)
        with silenced_stderr():
            if self.pose is None:
                self.pose = create_pose(pose_settings_for(self.clf))
                pose_frame(self.pose, blank)
            if self.static is None and self.cfg.recover_every is not None:
                self._static_pose().process(blank)

    # -- per frame --
    def process(self, frame: np.ndarray, t: float, part: tuple[float, ...] | None = None) -> dict:
        """One RGB frame (H, W, 3) uint8 -> the state after it (see `state`).

        `part` (x0, y0, x1, y1, shares of the picture): the frame is that part of the camera's
        picture, cropped by the client (the page's camera mode zooms on a small person in the
        browser, at the camera's full resolution); its landmarks are mapped back to the whole
        picture, and this tracker's own zoom stands aside while a part is given.
        """
        full = frame
        h, w = full.shape[:2]
        if self.size is None:
            self.size = (
                (w, h) if part is None else (w / (part[2] - part[0]), h / (part[3] - part[1]))
            )
        if part != self.part:  # the client's crop changed: what the tracker sees jumped
            self.part = part
            self.zoom.region = None
            if self.pose is not None:
                self._restart_tracking()
        frame = self._shrink(
            self.zoom.crop(full)
        )  # landmarks below are on the crop until mapped back
        with silenced_stderr():
            if self.pose is None:
                self.warm_up()
            view = self.person.view(frame) if self.person else frame
            lm, world, found = pose_frame(self.pose, view)
            every = self.cfg.recover_every
            if not found and every is not None and t - self._last_recover >= every:
                lm, world, found = self._recover(view, t, lm, world)
            if not found and part is None and self.zoom.look_due():
                hit = self.zoom.look(self._static_pose(), full, _to_array)
                if hit is not None:  # tracked on the crop around them from the next frame on
                    self._restart_tracking()
                    self.zoom.update(True)
                    return self.add_pose(t, hit[0], hit[1], True)
            if self.person and self.person.after(
                frame, lm if found else None, self._static_pose, _to_array
            ):
                self.pose.close()  # the tracker holds someone else: start it on the chosen person
                self.pose = create_pose(pose_settings_for(self.clf))
                lm, world, found = pose_frame(self.pose, self.person.view(frame))
        if found:
            lm = self.zoom.to_full(lm, full.shape)
            if part is not None:
                lm = view_to_full(lm, part)
        region = self.zoom.region
        self.zoom.update(found)
        if self.zoom.region != region:  # the crop was dropped: the person choice was made on it
            self._restart_tracking()
        return self.add_pose(t, lm, world, found)

    def _shrink(self, frame: np.ndarray) -> np.ndarray:
        """The pose model looks at 256 px anyway; a smaller copy is cheaper to hand over."""
        h, w = frame.shape[:2]
        scale = self.cfg.max_side / max(h, w)
        if scale >= 1:
            return frame
        import cv2

        return cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)

    def _restart_tracking(self) -> None:
        """The tracker and the person choice start again (after the crop they see changed)."""
        with silenced_stderr():
            self.pose.close()
            self.pose = create_pose(pose_settings_for(self.clf))
        if self.person:
            self.person = StreamChoice()

    def _static_pose(self):
        """The static-mode model (recovery, the main-person look), made on first need."""
        if self.static is None:
            self.static = create_pose(pose_settings_for(self.clf), static=True)
        return self.static

    def _recover(self, frame: np.ndarray, t: float, lm: np.ndarray, world: np.ndarray):
        """The offline path's second look at a missed frame (lying bodies, small frames), as extract does."""
        from workout_classifier.pose.recovery import recover_frame

        self._last_recover = t
        got = recover_frame(self._static_pose(), frame, _to_array)
        if got is None:
            return lm, world, False
        self.recovered += 1
        return got[0], got[1], True

    def add_pose(self, t: float, lm: np.ndarray, world: np.ndarray, found: bool) -> dict:
        """The same as `process` for a pose found elsewhere (tests, a pose model run in a browser)."""
        if self.size is None:
            self.size = (1, 1)
        self.frames += 1
        self.times.append(float(t))
        self.rows.append(lm)
        self.world.append(world)
        self.found.append(bool(found))
        if self.counter is not None:
            self.counter.update(t, world if found else None, lm if found else None)
        if t - self._last_decision >= self.cfg.hop_seconds:
            t0 = time.perf_counter()
            self._decide(t)
            self.decide_ms.append((time.perf_counter() - t0) * 1000)
        return self.state(lm if found else None)

    # -- every hop --
    def _window(
        self, t: float, seconds: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        times = np.fromiter(self.times, float)
        first = int(np.searchsorted(times, t - seconds - 1e-9))
        sl = slice(first, len(times))
        rows = list(self.rows)[sl]
        return (
            times[sl],
            np.stack(rows),
            np.stack(list(self.world)[sl]),
            np.fromiter(self.found, bool)[sl],
        )

    def _decide(self, t: float) -> None:
        self._last_decision = t
        self._sync()  # before a set can close: it keeps every rep counted up to now
        times, lm, world, found = self._window(t, self.clf.features.window_seconds)
        span = times[-1] - times[0]
        if span < self.cfg.min_seconds or found.sum() < max(4, 0.5 * len(found)):
            # Too little seen yet, or nobody in the picture for most of the window.
            self.label, self.confidence, self.top, self.posture = None, None, [], None
            if found.sum() < 0.5 * len(found):
                self._set_event(self.sets.update(t, None, times[0]), t)
            return
        w, h = self.size
        seq = PoseSequence(lm, world, times, found, {"width": w, "height": h})
        # The last 4 s as one time window, as the timeline reads a session (predict.timeline_windows).
        raw, _ = windows(prepare(seq), replace(self.clf.features, unit="time"))
        probs = self.clf.predict_windows(raw[-1:], tta=bool(self.clf.extra.get("tta", False)))[0]
        order = np.argsort(-probs)[:3]
        self.top = [
            {"label": self.clf.classes[i], "probability": round(float(probs[i]), 4)} for i in order
        ]
        best = int(order[0])
        self.confidence = round(float(probs[best]), 4)
        self.posture = posture(lm, found, w / h, self.cfg)
        if self.posture["resting"]:
            self.label = RESTING
        elif self.threshold is not None and probs[best] < self.threshold:
            self.label = UNKNOWN
        else:
            self.label = self.clf.classes[best]
        self._set_event(self.sets.update(t, self.label, float(times[0])), t)
        self._form(t)

    def _set_event(self, event: str | None, t: float) -> None:
        if event in (
            "switch",
            "close",
        ):  # the closed set got its count in `_sync`, before it closed
            self.counter = None
            self.form_cues = []
        if event in ("open", "switch", "relabel"):
            # The new set's counter, for its exercise, starts with the frames since the set began
            # (the decision needed a window of them), so its first reps are not lost.
            cur = self.sets.current
            if (
                event == "relabel"
            ):  # counted again from the start with the right exercise's measures
                cur.reps = 0
            self.counter = OnlineRepCounter(cur.label)
            for tt, row, world, ok in zip(
                self.times, self.rows, self.world, self.found, strict=True
            ):
                if tt >= cur.start:
                    self.counter.update(tt, world if ok else None, row if ok else None)
        self._sync()

    def _sync(self) -> None:
        """The open set's reps (or seconds held) from its counter."""
        if self.counter is not None and self.sets.current is not None:
            self.sets.current.reps = max(self.sets.current.reps, self.counter.reps)
            self.sets.current.hold_seconds = self._held()

    def _form(self, t: float) -> None:
        """Push-up form cues on the current set, every few seconds (the offline check on the set so far)."""
        from workout_classifier.predict import is_push_up

        cur = self.sets.current
        if (
            cur is None
            or not is_push_up(cur.label)
            or t - self._last_form < 2.0
            or t - cur.start < 3.0
        ):
            return
        self._last_form = t
        from workout_classifier.analysis.form import check_form

        times, lm, world, found = self._window(t, t - cur.start)
        w, h = self.size
        try:
            res = check_form(PoseSequence(lm, world, times, found, {"width": w, "height": h}))
        except Exception:  # too few usable frames for the cues: no verdict yet
            return
        self.form_cues = res["form_cues"] if res["form"] == "wrong" else []

    # -- reading --
    @property
    def reps(self) -> int:
        return self.counter.reps if self.counter is not None else 0

    def _held(self) -> float | None:
        """Seconds held so far in the open set, for a hold (plank); None for counted exercises."""
        c = self.counter
        return round(c.hold_seconds, 1) if c is not None and c.exercise in HOLDS else None

    def state(self, landmarks: np.ndarray | None = None) -> dict:
        """The answer after the latest frame: time, label, confidence, reps, set, top, form cues, landmarks."""
        cur = self.sets.current
        return {
            "time": round(self.times[-1], 3) if self.times else None,
            "label": self.label,
            "confidence": None if self.label in (RESTING, None) else self.confidence,
            "reps": self.reps,
            "hold_seconds": self._held(),
            "set": len(self.sets.sets) + 1 if cur is not None else None,  # its number, from 1
            "set_label": cur.label if cur is not None else None,
            "top": self.top,
            "form_cues": list(self.form_cues),
            "landmarks": landmarks,
        }

    def summary(self) -> dict:
        """Close the open set and summarise: sets in order, totals per exercise, frames and timings."""
        if self.counter is not None:
            self.counter.finish()
            self._sync()
        sets = [s.to_dict() for s in self.sets.finish()]
        self.counter = None
        totals: dict[str, dict] = {}
        for s in sets:
            tot = totals.setdefault(s["label"], {"sets": 0, "reps": 0})
            tot["sets"] += 1
            tot["reps"] += s["reps"]
        found = sum(self.found)
        return {
            "sets": sets,
            "exercises": totals,
            "frames_processed": self.frames,
            "person_found": round(found / self.frames, 3) if self.frames else 0.0,
            "recovered_frames": self.recovered,
            "duration": round(self.times[-1] - self.times[0], 2) if len(self.times) > 1 else 0.0,
            "decide_ms_p95": percentile(self.decide_ms, 95),
        }
