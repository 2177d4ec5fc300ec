"""Read ahead: run an iterator in a background thread, a few items before its consumer.

Used between decoding and the pose model (pose.py): FFmpeg decodes without
holding the GIL, so the next frames are decoded while the pose model runs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator


def prefetch(items: Iterator, depth: int = 4) -> Iterator:
    """Run `items` in a background thread, `depth` items ahead of the consumer.

    Errors raised by `items` come out of this iterator; closing it (or an exception
    in the consumer) stops the thread. depth <= 0 returns `items` unchanged.
    """
    if depth <= 0:
        yield from items
        return
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put((None, item)):
                    return
            put((None, end))
        except BaseException as e:  # handed to the consumer
            put((e, None))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # closes the container if we stopped early

    worker = threading.Thread(target=run, name="frame-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            err, item = q.get()
            if err is not None:
                raise err
            if item is end:
                return
            yield item
    finally:
        stop.set()
        worker.join()
