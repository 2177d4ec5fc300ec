"""Live sets: the session's settings (`LiveConfig`) and the stream of decisions turned into sets.

`SetTracker` is fed one decision (time, label) at a time by `tracker.LiveTracker`: a different
exercise, held for `switch_seconds`, starts a new set; resting (or nobody, or unknown) for
`rest_seconds` ends the current one. Plain Python, no pose model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workout_classifier.analysis.posture import STILL_TRAVEL, UPRIGHT_DEGREES, WALK_TRAVEL
from workout_classifier.predict import UNKNOWN

RESTING = "resting"


@dataclass(frozen=True)
class LiveConfig:
    hop_seconds: float = 0.5  # how often the exercise is decided again
    min_seconds: float = 1.5  # pose history needed before the first decision
    switch_seconds: float = 1.5  # a different exercise must hold this long to start a new set
    rest_seconds: float = 3.0  # not exercising this long ends the set
    min_set_seconds: float = 2.0  # shorter sets without a rep are dropped (a stray decision)
    settle_seconds: float = (
        4.0  # a set this young takes a different exercise as its own label (its first
    )
    # decisions saw less than the model's window, stretched to its length: the least sure ones)
    still_travel: float = STILL_TRAVEL  # posture.py: holding still, walking, upright
    walk_travel: float = WALK_TRAVEL
    upright_degrees: float = UPRIGHT_DEGREES
    max_side: int = 640  # frames are shrunk to this longest side before the pose model
    recover_every: float | None = (
        0.2  # s between second looks (recovery.py) at frames the tracker missed;
    )
    # None: never. Each look is up to three static detections, so they are rationed: an empty room stays cheap
    buffer_seconds: float = 180.0  # pose history kept (the longest set counted in full)


# ---- sets --------------------------------------------------------------------------------------
@dataclass
class LiveSet:
    label: str
    start: float
    end: float
    reps: int = 0
    hold_seconds: float | None = None  # a hold (plank): the longest time held, instead of reps

    def to_dict(self) -> dict:
        out = {
            "label": self.label,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "reps": self.reps,
        }
        if self.hold_seconds is not None:
            out["hold_seconds"] = self.hold_seconds
        return out


@dataclass
class SetTracker:
    """Decisions (time, label) in; sets out. Labels other than exercises (resting, unknown, None) end sets."""

    cfg: LiveConfig = field(default_factory=LiveConfig)
    sets: list[LiveSet] = field(default_factory=list)  # closed sets, in order
    current: LiveSet | None = None
    _candidate: tuple[str | None, float] | None = (
        None  # (label, since) of a change not yet confirmed
    )
    _idle_seen: float = -np.inf  # the last decision that was not an exercise, while no set was open

    @staticmethod
    def is_exercise(label: str | None) -> bool:
        return label not in (None, RESTING, UNKNOWN)

    def update(self, t: float, label: str | None, window_start: float) -> str | None:
        """Feed one decision. Returns "open" when a set was opened, "switch" or "close" when one ended,
        "relabel" when a young set was found to be another exercise."""
        cur = self.current
        if cur is None:
            if not self.is_exercise(label):
                self._idle_seen = t
            else:  # the window reaches back into the rest: the set starts after it
                self.current = LiveSet(label, max(window_start, self._idle_seen), t)
                self._candidate = None
                return "open"
            return None
        if label == cur.label:
            cur.end, self._candidate = t, None
            return None
        if self.is_exercise(label) and t - cur.start < self.cfg.settle_seconds:
            cur.label, cur.end, self._candidate = label, t, None
            return "relabel"
        if self._candidate is None or self._candidate[0] != label:
            self._candidate = (label, t)
        since = self._candidate[1]
        if self.is_exercise(label) and t - since >= self.cfg.switch_seconds:
            self._close(since)
            self.current = LiveSet(label, since, t)
            self._candidate = None
            return "switch"
        if not self.is_exercise(label) and t - since >= self.cfg.rest_seconds:
            self._close(since)
            self._candidate = None
            self._idle_seen = t
            return "close"
        return None

    def _close(self, end: float) -> None:
        cur, self.current = self.current, None
        if cur is None:
            return
        cur.end = max(min(cur.end, end), cur.start)
        if cur.reps > 0 or cur.end - cur.start >= self.cfg.min_set_seconds:
            self.sets.append(cur)

    def finish(self) -> list[LiveSet]:
        """Close the open set (end of the stream) and return every set."""
        if self.current is not None:
            self._close(self.current.end)
        return self.sets
