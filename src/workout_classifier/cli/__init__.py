"""The `workout` command line: a thin typer layer over the library functions.

One module per group of commands; importing them registers the commands on `app`.
"""

from workout_classifier.cli import data, learn, live, use  # noqa: F401  (registers the commands)
from workout_classifier.cli.common import app, fail, run_extraction

__all__ = ["app", "fail", "run_extraction"]
