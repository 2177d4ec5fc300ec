"""workout-classifier: watch a workout video, say which exercise it shows, count reps, check form.

The package is laid out by pipeline stage; each imports only the ones before it:

    frames/    decode files, cameras and streams into sampled frames
    pose/      MediaPipe landmarks, whom to follow, the pose cache and parallel extraction
    learn/     dataset, features, models, training, cross-validation, model files, reports
    analysis/  reps, form, posture and the timeline of a classified clip
    predict    the answer about a clip (label, confidence, reps, form, timeline)
    annotate   a copy of the clip with the answer drawn on it
    live/      the same stages on a camera or stream
    api        the Python API below, which cli/ and serve/ (and the web/ page) use too

    import workout_classifier as wc
    r = wc.load_model().predict("clip.mp4", reps=True)
    r.label, r.confidence, r.reps, r.to_dict()
"""

from workout_classifier._quiet import quiet_env

quiet_env()

__version__ = "0.1.0"

_API = ("Model", "Result", "load_model", "extract", "train", "evaluate")
__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    # Lazy, so `import workout_classifier` (and every `workout` command) does not load the
    # model stack before it needs it.
    if name in _API:
        from workout_classifier import api

        return getattr(api, name)
    raise AttributeError(f"module 'workout_classifier' has no attribute {name!r}")
