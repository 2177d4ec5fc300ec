"""`python -m workout_classifier.cli`."""

from workout_classifier.cli import app

app()
