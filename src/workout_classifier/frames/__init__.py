"""Frames in: decoding video files, cameras and streams into sampled RGB frames.

Holds ``video`` (open and probe a clip; ``VideoError`` for anything unreadable), ``sampling``
(its upright frames at a target rate), ``damage`` (what the decoder could not read of a clip,
and the warnings that say it) and ``prefetch`` (decode ahead on a thread). The bottom of the
pipeline: it imports nothing of this package beyond ``_quiet``; every other stage may import it.
"""
