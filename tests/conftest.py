"""Shared fixtures: small videos generated with OpenCV, and the real clips beside the checkout.

Generated clips are drawings (a moving ball and box on a plain background): they
decode like real videos but show nobody, so pose extraction must report them as
"no person", never crash. Session-scoped datasets are built once and must not be
modified by tests; tests that rename or delete files copy clips first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

# ../shared/data/clips beside the checkout (never copied into the project).
REAL_CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"

UNICODE_NAME = "Kniebeuge schnell é ü ñ.mp4"  # spaces and non-ASCII letters


def write_video(
    path: Path,
    frames: int = 30,
    fps: float = 30.0,
    size: tuple[int, int] = (160, 120),
    fourcc: str = "mp4v",
    seed: int = 0,
) -> Path:
    """Write a small synthetic clip; `size` is (width, height)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert vw.isOpened(), f"OpenCV cannot write {path}"
    rng = np.random.default_rng(seed)
    bg = rng.integers(30, 90, size=3).tolist()
    for i in range(frames):
        f = np.full((h, w, 3), bg, np.uint8)
        x = int((i * 7) % max(w - 20, 1)) + 10
        cv2.circle(f, (x, h // 2), max(min(w, h) // 10, 3), (0, 200, 255), -1)
        cv2.rectangle(f, (w - x, h // 4), (w - x + w // 8, h // 4 + h // 8), (255, 120, 0), -1)
        vw.write(f)
    vw.release()
    return path


def truncate_half(path: Path) -> Path:
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory) -> Path:
    """Three exercise folders of good, short clips (about 1 s each).

    squat/       clip_a.mp4 (30 fps), UNICODE_NAME, v_BodyWeightSquats_g01_c01/_c02/_g02_c01
    push up/     portrait.mp4 (120x160), slow.MP4 (uppercase extension, 10 fps)
    lunges/      lunge.avi (MJPG, 25 fps)
    """
    root = tmp_path_factory.mktemp("data")
    sq = root / "squat"
    write_video(sq / "clip_a.mp4", frames=30, fps=30)
    write_video(sq / UNICODE_NAME, frames=20, fps=20, seed=1)
    write_video(sq / "v_BodyWeightSquats_g01_c01.mp4", frames=15, fps=15, seed=2)
    write_video(sq / "v_BodyWeightSquats_g01_c02.mp4", frames=15, fps=15, seed=3)
    write_video(sq / "v_BodyWeightSquats_g02_c01.mp4", frames=15, fps=15, seed=4)
    write_video(root / "push up" / "portrait.mp4", frames=20, fps=20, size=(120, 160), seed=5)
    write_video(root / "push up" / "slow.MP4", frames=12, fps=10, seed=6)
    write_video(root / "lunges" / "lunge.avi", frames=25, fps=25, fourcc="MJPG", seed=7)
    return root


@pytest.fixture(scope="session")
def messy_dataset(tmp_path_factory) -> Path:
    """Good clips mixed with every kind of bad input the issue lists.

    squat/      good.mp4, empty.mp4 (0 bytes), truncated.mp4 (cut in half),
                notes.mp4 (a text file), one_frame.mp4, readme.txt
    push up/    portrait.mp4, UNICODE_NAME
    plank/      long.mp4: 4 minutes at 160x120, 5 fps (1200 frames)
    empty/      no clips at all
    """
    root = tmp_path_factory.mktemp("messy")
    sq = root / "squat"
    write_video(sq / "good.mp4", frames=45, fps=30)
    (sq / "empty.mp4").write_bytes(b"")
    truncate_half(write_video(sq / "truncated.mp4", frames=60, fps=30, seed=1))
    (sq / "notes.mp4").write_text("this is not a video\n" * 50)
    write_video(sq / "one_frame.mp4", frames=1, fps=30, seed=2)
    (sq / "readme.txt").write_text("not a clip")
    write_video(root / "push up" / "portrait.mp4", frames=30, fps=30, size=(120, 160), seed=3)
    write_video(root / "push up" / UNICODE_NAME, frames=30, fps=15, seed=4)
    write_video(root / "plank" / "long.mp4", frames=240 * 5, fps=5, size=(160, 120), seed=5)
    (root / "empty").mkdir()
    return root


@pytest.fixture
def copy_clips(tmp_path):
    """Copy chosen clips into a fresh dataset under tmp_path (for tests that modify files)."""

    def _copy(src_root: Path, rels: list[str], dest: str = "copy") -> Path:
        out = tmp_path / dest
        for rel in rels:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src_root / rel, target)
        return out

    return _copy


@pytest.fixture(scope="session")
def real_clips() -> Path:
    if not REAL_CLIPS.is_dir():
        pytest.skip(
            f"real clips not found at {REAL_CLIPS} (../shared/data/clips beside the checkout)"
        )
    return REAL_CLIPS


def real_clip(root: Path, rel: str) -> Path:
    p = root / rel
    if not p.is_file():
        pytest.skip(f"real clip missing: {p}")
    return p


def small_copy(src, out, scale: float, seconds: float = 5.0):
    """`src` shrunk to `scale` of a 1280 x 720 frame's height, pasted near its lower right corner."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1280, 720))
    for _ in range(int(fps * seconds)):
        ok, f = cap.read()
        if not ok:
            break
        s = 720 * scale / f.shape[0]
        f = cv2.resize(f, (int(f.shape[1] * s), int(f.shape[0] * s)), interpolation=cv2.INTER_AREA)
        canvas = np.full((720, 1280, 3), 90, np.uint8)
        canvas[700 - f.shape[0] : 700, 900 : 900 + f.shape[1]] = f[:, : 1280 - 900]
        vw.write(canvas)
    vw.release()
    return out


def pytest_collection_modifyitems(config, items):
    """Tests marked `neural` need torch (the optional extra): skip them, with the reason, where it is absent."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        return
    skip = pytest.mark.skip(reason="needs torch: pip install 'workout-classifier[neural]'")
    for item in items:
        if "neural" in item.keywords:
            item.add_marker(skip)


# ---- a tiny dataset whose poses are synthetic: train/evaluate/predict in seconds -----------------
def tiny_video(path, seed):
    """3 frames of noise, 64x48: a file that decodes, for a cache entry to be keyed on."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (64, 48))
    rng = np.random.default_rng(seed)
    for _ in range(3):
        w.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    w.release()


@pytest.fixture(scope="session")
def fake_dataset(tmp_path_factory):
    """(data, cache, root): 3 exercises x 6 tiny clips in 3 scene groups each, their cache entries
    filled with synthetic landmarks (tests/synth.py), so nothing runs MediaPipe."""
    from synth import MOVES, synthetic_sequence

    from workout_classifier.pose.cache import PoseCache
    from workout_classifier.pose.landmarks import PoseSettings

    root = tmp_path_factory.mktemp("cli")
    data, cache_dir = root / "data", root / "cache"
    cache = PoseCache(cache_dir, PoseSettings())
    n = 0
    for _k, move in enumerate(MOVES):
        (data / move).mkdir(parents=True)
        for i in range(6):
            clip = data / move / f"v_{move.title()}_g{i // 2:02d}_c{i % 2 + 1:02d}.mp4"
            tiny_video(clip, n)
            synthetic_sequence(move, seconds=4, seed=500 + n).save(cache.data_path(cache.key(clip)))
            n += 1
    return data, cache_dir, root
