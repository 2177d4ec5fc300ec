"""Pose: MediaPipe landmarks for a clip, and everything that makes extraction a cached step.

``landmarks`` defines the skeleton array contract (``PoseSequence``, ``PoseSettings``),
``runner`` runs the pose model over one clip, ``person`` picks whom to follow, ``recovery``
finds frames the tracker lost, ``cache`` keeps one file per clip keyed by content and settings,
``extract`` fills it with parallel workers (``progress`` is its bar), ``split`` runs one long
clip over several cores and ``distributed`` over a Ray cluster. May import ``frames`` and
``_quiet``, nothing above.
"""
