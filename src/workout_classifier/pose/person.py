"""Main person: which of several people in the frame the pose tracker follows
(PoseSettings.main_person: on by default since 2026-12-04, see the note there).

MediaPipe's legacy pose tracker follows one person, whichever its detector
scores highest on the first frame (often a spotter standing behind a bench, or
someone in the background). When the tracker first finds somebody we look for
others: the found person is blanked out and the frame is run through the static
(detect-every-time) BlazePose again, up to `MAX_PEOPLE`. A clip with one person
costs that single extra look and is otherwise untouched. With more than one, the
next `CHOOSE_FRAMES` sampled frames are read ahead and the main person is the one
scoring best on motion inside their box (what an exerciser does), then size and
nearness to the centre; the person the tracker already holds is kept unless
another scores clearly higher. From then on the tracker only sees that person's region
(everything outside a margin around their last landmarks is blanked, so the
frame keeps its size and landmarks need no mapping back); the region follows the
landmarks frame by frame, widens while the person is missed, and is dropped to
choose again after `LOST_FRAMES` missed frames in a row.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_PEOPLE = 3  # people looked for at a choice (each extra one costs one static pose run)
CHOOSE_FRAMES = 10  # sampled frames watched for motion before choosing (about 1 s at 10 fps)
LOST_FRAMES = 15  # missed frames in a row after which the choice is dropped and made again
# Leave the person the tracker holds only for one scoring this much more (of at most 4). On bench
# press both the lifter and a spotter move: UCF g10_c01 lifter 3.36, spotter 3.49; g11_c02 lifter
# 3.21, spotter 3.32 (the tracker drifts to the spotter later unless held); a still person beside
# an exerciser trails by about 1.5.
SWITCH_MARGIN = 0.5
MARGIN = 0.3  # region kept around the main person, as a share of their box's width/height
GROW = 0.1  # how much the region widens per missed frame (the person may have moved)
_BLANK_MARGIN = 0.15  # around a found person when blanking them out to look for others
_SAME = 0.5  # a detection overlapping a found person's box this much (IoU) is that person again
_MOTION_SIDE = 160  # motion is measured on frames scaled to this width (cheap, and enough)


def landmark_box(img: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) in normalized image units around the visible joints of (33, 4) landmarks."""
    vis = img[:, 3] > 0.3
    pts = img[vis if vis.sum() >= 4 else slice(None), :2]
    return np.array([*pts.min(0), *pts.max(0)], dtype=np.float64)


def expand(box: np.ndarray, margin: float) -> np.ndarray:
    """`box` widened by `margin` of its width and height on every side."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    return np.array([x0 - dx, y0 - dy, x1 + dx, y1 + dy])


def _pixels(box: np.ndarray, h: int, w: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (int(np.clip(np.floor(x0 * w), 0, w)), int(np.clip(np.floor(y0 * h), 0, h)),
            int(np.clip(np.ceil(x1 * w), 0, w)), int(np.clip(np.ceil(y1 * h), 0, h)))  # fmt: skip


def blank(frame: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray:
    """A copy of `frame` with each box painted black."""
    out = frame.copy()
    h, w = frame.shape[:2]
    for b in boxes:
        x0, y0, x1, y1 = _pixels(b, h, w)
        out[y0:y1, x0:x1] = 0
    return out


def keep_only(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """`frame` black outside `box` (same size, so landmarks stay in full-frame coordinates)."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = _pixels(box, h, w)
    if (x0, y0, x1, y1) == (0, 0, w, h):
        return frame
    out = np.zeros_like(frame)
    out[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def find_people(static_pose, frame: np.ndarray, first: np.ndarray, to_array) -> list[np.ndarray]:
    """Boxes of the people in `frame`: `first` (already found) and up to MAX_PEOPLE - 1 others.

    Each found person is blanked out and the static pose model looks again, so
    the detector's favourite cannot hide the others.
    """
    boxes = [first]
    masked = blank(frame, [expand(first, _BLANK_MARGIN)])
    while len(boxes) < MAX_PEOPLE:
        res = static_pose.process(masked)
        if res.pose_landmarks is None:
            break
        box = landmark_box(to_array(res.pose_landmarks))
        if max(iou(box, b) for b in boxes) > _SAME:
            break  # the blanked person found again through the margin
        boxes.append(box)
        masked = blank(masked, [expand(box, _BLANK_MARGIN)])
    return boxes


def _small_gray(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    size = (_MOTION_SIDE, max(1, round(h * _MOTION_SIDE / w)))
    return cv2.cvtColor(
        cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY
    ).astype(np.int16)


def scores(boxes: list[np.ndarray], frames: list[np.ndarray]) -> np.ndarray:
    """One score per box over `frames` (RGB): motion counts twice as much as size or centrality.

    Motion is the mean absolute change between consecutive frames of the pixels
    inside the box (per pixel, so a big still person does not win by area).
    Each term is scaled to the best person's, so the three weigh alike across clips.
    """
    grays = [_small_gray(f) for f in frames]
    h, w = grays[0].shape
    motion, size, central = [], [], []
    for b in boxes:
        x0, y0, x1, y1 = _pixels(b, h, w)
        if x1 <= x0 or y1 <= y0 or len(grays) < 2:
            motion.append(0.0)
        else:
            motion.append(float(np.mean([np.abs(g1[y0:y1, x0:x1] - g0[y0:y1, x0:x1]).mean()
                                         for g0, g1 in zip(grays[:-1], grays[1:], strict=True)])))  # fmt: skip
        cb = np.clip(b, 0, 1)
        size.append(float((cb[2] - cb[0]) * (cb[3] - cb[1])))
        cx, cy = (cb[0] + cb[2]) / 2, (cb[1] + cb[3]) / 2
        central.append(1.0 - float(np.hypot(cx - 0.5, cy - 0.5)) / np.hypot(0.5, 0.5))
    rel = [np.asarray(v) / max(max(v), 1e-9) for v in (motion, size, central)]
    return 2.0 * rel[0] + rel[1] + rel[2]


class MainPerson:
    """Per-clip state of the choice: the region the tracker may see, and how long it was missed."""

    def __init__(self):
        self.region: np.ndarray | None = None  # None: the whole frame
        self.checked = False  # whether the current track was looked at for other people
        self.missed = 0
        self.people = 1  # most people seen at a choice

    def view(self, frame: np.ndarray) -> np.ndarray:
        return frame if self.region is None else keep_only(frame, self.region)

    def choose(self, boxes: list[np.ndarray], frames: list[np.ndarray]) -> int:
        """Pick the main person among `boxes` (several; the first is the one the tracker holds)
        watching `frames`; returns their index."""
        s = scores(boxes, frames)
        k = int(np.argmax(s))
        if s[k] - s[0] < SWITCH_MARGIN:
            k = 0  # keep the tracked person unless another is clearly the exerciser
        self.region, self.missed = expand(boxes[k], MARGIN), 0
        self.people = max(self.people, len(boxes))
        return k

    def update(self, img: np.ndarray | None) -> None:
        """After each frame: `img` the (33, 4) landmarks found, or None."""
        if img is not None:
            self.missed = 0
            if self.region is not None:
                self.region = expand(landmark_box(img), MARGIN)
            return
        self.missed += 1
        if self.region is not None:
            self.region = expand(self.region, GROW)
        if self.missed >= LOST_FRAMES:  # track lost: the whole frame again, and a new choice
            self.region, self.checked = None, False


class StreamChoice:
    """The same choice on a live stream, where frames cannot be read ahead: after the look finds
    several people, the next `CHOOSE_FRAMES` frames are watched and the choice is made then
    (about a second late at 10 fps; until then the tracker keeps whom it holds)."""

    def __init__(self):
        self.main = MainPerson()
        self.boxes: list[np.ndarray] | None = None  # people found by the look, while watching
        self.frames: list[np.ndarray] = []

    def view(self, frame: np.ndarray) -> np.ndarray:
        return self.main.view(frame)

    def after(self, frame: np.ndarray, img: np.ndarray | None, static_pose, to_array) -> bool:
        """After each frame's pose (`img` (33, 4), or None when nobody was found); True when the
        choice fell on someone else and the tracker must start again on them."""
        if self.boxes is not None:
            self.frames.append(frame)
            if len(self.frames) >= CHOOSE_FRAMES:
                k = self.main.choose(self.boxes, self.frames)
                self.boxes, self.frames = None, []
                if k != 0:
                    return True  # the region is the chosen person's; this frame's landmarks are not
        elif img is not None and not self.main.checked:
            self.main.checked = True
            boxes = find_people(static_pose(), self.main.view(frame), landmark_box(img), to_array)
            if len(boxes) > 1:
                self.boxes, self.frames = boxes, [frame]
        self.main.update(img)
        return False
