"""workout-classifier: watch a workout video and say which exercise is being done.

Pipeline, one module per stage, with plain numpy arrays between stages:
dataset (clips, labels, groups) -> video (decode, sample) -> pose (MediaPipe landmarks)
-> extract (content-keyed cache, parallel workers) -> features -> models -> train
-> evaluate / predict -> report. `cli` is a thin typer layer over these.
"""

from workout_classifier._quiet import quiet_env

quiet_env()

__version__ = "0.1.0"
