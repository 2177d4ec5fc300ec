"""Keep MediaPipe, TensorFlow Lite and absl from writing log noise to the terminal.

MediaPipe's C++ side logs (glog/absl) straight to file descriptor 2 before any
Python logging is set up, so environment variables alone do not silence it; the
only reliable switch is to point fd 2 at /dev/null around the noisy calls.
"""

from __future__ import annotations

import contextlib
import os
import sys


def quiet_env() -> None:
    """Set the environment variables the native libraries read at load time."""
    os.environ.setdefault("GLOG_minloglevel", "3")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    # OpenCV's FFmpeg backend prints demuxer complaints ("moov atom not found") for
    # broken files; we report those ourselves in one line. -8 is AV_LOG_QUIET.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


@contextlib.contextmanager
def silenced_stderr():
    """Redirect the process-level stderr (fd 2) to /dev/null for the block."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd (e.g. some test runners)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def silence_stderr_forever() -> None:
    """For worker processes: their errors travel back as exceptions, not stderr text."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
