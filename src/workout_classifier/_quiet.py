"""Keep MediaPipe, TensorFlow Lite and absl from writing log noise to the terminal.

MediaPipe's C++ side logs (glog/absl) straight to file descriptor 2 before any
Python logging is set up, so environment variables alone do not silence it; the
only reliable switch is to point fd 2 at /dev/null around the noisy calls.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading


def quiet_env() -> None:
    """Set the environment variables the native libraries read at load time."""
    os.environ.setdefault("GLOG_minloglevel", "3")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    # OpenCV's FFmpeg backend prints demuxer complaints ("moov atom not found") for
    # broken files; we report those ourselves in one line. -8 is AV_LOG_QUIET.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


_lock = threading.Lock()
_depth = 0  # nested or concurrent silenced blocks (threads) share one redirect
_saved_fd: int | None = None
_saved_py = None
_terminal = None  # a text stream on a dup of the real stderr, kept open for good


def _terminal_stream(fd: int):
    """A never-closed text stream on a copy of `fd`, reused while fd 2 points at the same file."""
    global _terminal
    st = os.fstat(fd)
    if _terminal is not None:
        try:
            t = os.fstat(_terminal.fileno())
            if (t.st_dev, t.st_ino) == (st.st_dev, st.st_ino):
                return _terminal
        except (OSError, ValueError):
            pass
    enc = getattr(sys.stderr, "encoding", None) or "utf-8"
    _terminal = os.fdopen(os.dup(fd), "w", buffering=1, encoding=enc, errors="backslashreplace")
    return _terminal


@contextlib.contextmanager
def silenced_stderr():
    """Send native writes to fd 2 (glog, absl, TFLite) to /dev/null for the block.

    Python-level writers keep the terminal: while fd 2 is redirected, `sys.stderr`
    points at a copy of the original descriptor, so a rich progress bar drawn by
    another thread stays visible. Safe to nest and to use from several threads
    (the first block in redirects, the last one out restores).
    """
    global _depth, _saved_fd, _saved_py
    with _lock:
        if _depth == 0:
            try:
                sys.stderr.flush()
            except (OSError, ValueError, AttributeError):
                pass
            try:
                saved = os.dup(2)
            except OSError:  # no fd 2 at all: nothing to silence
                saved = None
            if saved is not None:
                swap = None
                try:
                    if sys.stderr is not None and sys.stderr.fileno() == 2:
                        swap = _terminal_stream(saved)
                except (OSError, ValueError, AttributeError):  # e.g. captured by a test runner
                    swap = None
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
                _saved_fd = saved
                _saved_py = sys.stderr if swap is not None else None
                if swap is not None:
                    sys.stderr = swap
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved_fd is not None:
                if _saved_py is not None:
                    try:
                        sys.stderr.flush()
                    except (OSError, ValueError):
                        pass
                    sys.stderr = _saved_py
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
                _saved_fd, _saved_py = None, None


def silence_stderr_forever() -> None:
    """For worker processes: their errors travel back as exceptions, not stderr text."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
