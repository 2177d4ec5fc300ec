"""The live repetition counter: the offline counter (``reps.count_series``) re-run on a trailing window.

As frames arrive, ``OnlineRepCounter`` keeps each frame's body measures (``repmeasures.frame_measures``),
counts the last ``window`` seconds every ``every`` seconds with the same steps as ``reps.count_reps``,
and commits each rep once the body has moved back from its turning point (well under a second after
it), so its total matches the offline count on the same clip (within one: ``bench/reps.py`` checks it
on every labelled clip). A hold (plank) is timed instead (``hold_seconds``).
"""

from __future__ import annotations

import numpy as np

from workout_classifier.analysis.repmeasures import (
    _HIP,
    _SH,
    frame_measures,
    measure_visibility,
    plank_mask,
)
from workout_classifier.analysis.reps import (
    GRID_FPS,
    HOLDS,
    MIN_AMPLITUDE,
    START_WITHIN,
    count_series,
    normalize_exercise,
)


class OnlineRepCounter:
    """Reps as they happen: ``update(t, world)`` per frame returns the count so far.

    Each update re-runs the offline steps (``count_series``) on the last ``window`` seconds
    and commits a turning point once the body has moved back from it and a second look
    ``confirm`` seconds later still finds it (a short window sees only part of the range, so a
    twitch can look like a rep for one evaluation), so a rep shows up well within a second of
    when the offline counter could confirm it. A rep at the very start of the clip is judged
    against the range of the reps after it, so it is committed only after ``start_wait`` seconds
    (or at ``finish``) and goes in front. Committed reps are never taken back. ``exercise`` picks
    the profile (None: class-agnostic); ``hold_seconds`` times a plank.
    """

    def __init__(self, exercise: str | None = None, window: float = 12.0, fps: float = GRID_FPS,
                 min_amplitude: float = MIN_AMPLITUDE, every: float = 0.2, warmup: float = 2.5,
                 confirm: float = 0.2, start_wait: float = 5.0):  # fmt: skip
        self.exercise = normalize_exercise(exercise)
        self.confirm, self.start_wait = confirm, start_wait
        # (rep time, when first seen) not yet committed
        self._pending: list[tuple[float, float]] = []
        self.warmup = warmup
        self.window, self.fps, self.min_amplitude, self.every = window, fps, min_amplitude, every
        self._t: list[float] = []
        self._rows: list[np.ndarray] = []
        self._vis: list[np.ndarray] = []
        self._plank: list[bool] = []
        self._last_eval = -np.inf
        self.rep_times: list[float] = []
        # (rep time, stream time it was committed at)
        self.committed: list[tuple[float, float]] = []
        self.hold_seconds = 0.0
        self._hold_start: float | None = None
        self._hold_last: float | None = None
        self._torso: float | None = None
        self._first_t: float | None = None

    @property
    def reps(self) -> int:
        return len(self.rep_times)

    def update(
        self, t: float, world: np.ndarray | None = None, landmarks: np.ndarray | None = None
    ) -> int:
        """Add one frame at time t (s): world landmarks (33, >=3) or None when nobody was found."""
        t = float(t)
        if world is not None and np.isfinite(np.asarray(world)[..., :3]).all():
            w = np.asarray(world, np.float64)[None]
            if self._torso is None:
                self._torso = float(
                    np.linalg.norm(w[0, list(_SH), :3].mean(0) - w[0, list(_HIP), :3].mean(0))
                )
            if self._first_t is None:
                self._first_t = t
            self._t.append(t)
            im = None if landmarks is None else np.asarray(landmarks, np.float64)[None]
            self._rows.append(frame_measures(w, self._torso, im)[0])
            vis = np.asarray(landmarks if landmarks is not None else world, np.float64)
            self._vis.append(vis[:, 3] if vis.shape[-1] > 3 else np.ones(vis.shape[0]))
            self._update_hold(t, bool(plank_mask(w)[0]))
        # Keep a little more than the window (the gaussian smoothing looks past its edge).
        while self._t and self._t[0] < t - self.window - 2.0:
            self._t.pop(0), self._rows.pop(0), self._vis.pop(0)
        # Wait for a little history: on a second of data any twitch looks like a full rep.
        warm = bool(self._t) and self._t[-1] - self._first_t >= self.warmup
        if (
            warm
            and t - self._last_eval >= self.every
            and len(self._t) >= 4
            and self.exercise not in HOLDS
        ):
            self._last_eval = t
            self._evaluate(t)
        return self.reps

    def finish(self) -> int:
        """End of the stream: confirm what the last frames show (a clip shorter than the warm-up too)."""
        if len(self._t) >= 4 and self.exercise not in HOLDS:
            self._evaluate(self._t[-1], at_end=True)
        return self.reps

    def _update_hold(self, t: float, in_plank: bool) -> None:
        if not in_plank:
            return
        if self._hold_start is None or t - self._hold_last > 1.0:
            self._hold_start = t
        self._hold_last = t
        self.hold_seconds = max(self.hold_seconds, t - self._hold_start)

    def _evaluate(self, now: float, at_end: bool = False) -> None:
        times = np.asarray(self._t)
        keep = times >= now - self.window
        from_start = bool(keep.all()) and times[0] == self._first_t
        vis = measure_visibility(np.asarray(self._vis)[keep])
        res = count_series(times[keep], np.asarray(self._rows)[keep], self.exercise, vis,
                           self.min_amplitude, from_start, self.fps, to_end=at_end)  # fmt: skip
        start = float(times[keep][0])
        period = res.period or 1.0
        tol = max(0.4, 0.5 * min(period, 4.0))
        pending, self._pending = self._pending, []
        for rt in res.rep_times:
            if not from_start and rt < start + 1.0:
                continue  # at the window's left edge: seen (or not) by earlier windows
            if any(abs(rt - c) <= tol for c in self.rep_times):
                continue
            at_start = from_start and rt <= self._first_t + START_WITHIN + 0.05
            if at_start and not at_end and now - self._first_t < self.start_wait:
                continue
            if not at_start and self.rep_times and rt <= self.rep_times[-1]:
                continue
            seen = [f for c, f in pending if abs(rt - c) <= 0.2]
            if at_end or at_start or (seen and now - seen[0] >= self.confirm):
                self.rep_times.append(rt)
                self.rep_times.sort()
                self.committed.append((rt, now))
            else:
                self._pending.append((rt, seen[0] if seen else now))
