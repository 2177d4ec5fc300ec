"""What the benchmark scripts share: the five exercises with many clips and their cached poses."""

from __future__ import annotations

from pathlib import Path

FIVE = ["bench press", "lunges", "pull up", "push up", "squat"]


def cached_five(clips_dir: Path, cache_dir: Path):
    """(clips, TrainingSet) of the five exercises' clips whose poses are in the cache (see `workout extract`)."""
    from workout_classifier.learn.dataset import scan_dataset
    from workout_classifier.learn.train import load_training_set
    from workout_classifier.pose.cache import PoseCache

    clips, _ = scan_dataset(clips_dir)
    cache = PoseCache(cache_dir)
    clips = [c for c in clips if c.label in FIVE and cache.status(c.path) == "done"]
    return clips, load_training_set(clips, cache, classes=FIVE)


def write_table(lines: list[str], out: Path) -> str:
    """Print a results table and write it to `out` (bench/results/...); returns the text."""
    text = "\n".join(lines)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text
