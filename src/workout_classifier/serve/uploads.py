"""Uploads for `workout serve`: streamed multipart parsing with a byte limit.

`receive_upload` parses the request body as it arrives and writes the part named
``file`` to a fresh, randomly named file in the server's upload folder, counting
bytes as it goes; anything wrong with the body becomes an HTTPException and the
partial file is removed. A failure to write the file (disk full, I/O error) is the
server's fault, not the client's, so it answers 500 rather than 400. The client's
file name is reduced to a display label by `display_name` and never used as a
path (`server_name` picks the path).
"""

from __future__ import annotations

import contextlib
import logging
import unicodedata
import uuid
from pathlib import Path, PurePosixPath

from fastapi import HTTPException, Request
from starlette.requests import ClientDisconnect

try:  # python-multipart >= 0.0.13
    from python_multipart.multipart import MultipartParser, parse_options_header
except ImportError:  # pragma: no cover - older python-multipart
    from multipart.multipart import MultipartParser, parse_options_header

log = logging.getLogger("workout_classifier.serve")

MB = 1024 * 1024
# Bytes a multipart body may carry besides the file itself (boundaries, headers, small fields).
FORM_OVERHEAD = 64 * 1024
VIDEO_SUFFIXES = {
    ".mp4",
    ".m4v",
    ".mov",
    ".avi",
    ".mkv",
    ".webm",
    ".mpg",
    ".mpeg",
    ".3gp",
    ".ts",
    ".wmv",
    ".flv",
}


class UploadTooLarge(Exception):
    pass


def display_name(raw: str) -> str:
    """The client's file name reduced to a harmless label: last path part, printable, short."""
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    name = name.lstrip(".") or "upload"
    return name[:120]


def server_name(client_name: str) -> str:
    """A fresh random file name, keeping only a known video suffix of the client's name."""
    suffix = PurePosixPath(client_name).suffix.lower()
    return uuid.uuid4().hex + (suffix if suffix in VIDEO_SUFFIXES else ".bin")


class _UploadSink:
    """Callbacks for MultipartParser: the part named `file` goes to disk, the rest is counted."""

    def __init__(self, folder: Path, max_bytes: int):
        self.folder, self.max_bytes = folder, max_bytes
        self.path: Path | None = None
        self.name = "upload"
        self.size = 0
        self.other = 0
        self.fh = None
        self._in_file = False
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }  # fmt: skip

    def _part_begin(self):
        self._headers = {}

    def _header_field(self, data, start, end):
        self._field += data[start:end]

    def _header_value(self, data, start, end):
        self._value += data[start:end]

    def _header_end(self):
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self):
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if params.get(b"name") == b"file" and self.path is None:
            self.name = display_name(params.get(b"filename", b"").decode("utf-8", "replace"))
            path = self.folder / server_name(self.name)
            self.fh = open(path, "xb")  # exclusive: never overwrite anything
            self.path = path  # only once it is ours: discard() must never delete another file
            self._in_file = True

    def _part_data(self, data, start, end):
        n = end - start
        if self._in_file:
            self.size += n
            if self.size > self.max_bytes:
                raise UploadTooLarge
            self.fh.write(data[start:end])
        else:
            # Other fields are not stored, but still counted so they cannot be unbounded.
            self.other += n
            if self.other > FORM_OVERHEAD:
                raise UploadTooLarge

    def _part_end(self):
        if self._in_file:
            self._in_file = False
            self.fh.close()

    def discard(self):
        if self.fh is not None and not self.fh.closed:
            # Flushing to a full disk fails again; the file is removed all the same.
            with contextlib.suppress(OSError):
                self.fh.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _too_large(limit_mb: float) -> HTTPException:
    return HTTPException(413, f"the file is larger than this server's limit of {limit_mb:g} MB")


async def receive_upload(
    request: Request, folder: Path, max_bytes: int, limit_mb: float
) -> _UploadSink:
    """Stream the multipart body to a file in `folder`; raises HTTPException on bad input."""
    mime, params = parse_options_header(request.headers.get("content-type", ""))
    if mime != b"multipart/form-data" or not params.get(b"boundary"):
        raise HTTPException(415, "send the clip as multipart/form-data in a field named 'file'")
    # Refuse a declared oversize body before reading a byte of it; bodies without
    # Content-Length (chunked) are still caught by the count in _UploadSink.
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        raise _too_large(limit_mb)
    sink = _UploadSink(folder, max_bytes)
    parser = MultipartParser(params[b"boundary"], sink.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except UploadTooLarge:
        sink.discard()
        raise _too_large(limit_mb) from None
    except ClientDisconnect:
        sink.discard()
        raise HTTPException(400, "the upload was interrupted") from None
    except OSError as e:  # writing the file failed (disk full, I/O error): not a bad body
        sink.discard()
        reason = e.strerror or str(e) or type(e).__name__  # strerror: no server path in the answer
        log.error("could not store an upload: %s", e)
        raise HTTPException(500, f"could not store the upload: {reason}") from None
    except Exception as e:  # malformed multipart body
        sink.discard()
        raise HTTPException(400, f"malformed multipart body ({type(e).__name__})") from None
    if sink.path is None:
        raise HTTPException(
            422, "no file in the upload: send the clip in a multipart field named 'file'"
        )
    if sink.fh is not None and not sink.fh.closed:  # body ended inside the file part
        sink.discard()
        raise HTTPException(400, "the upload ended before the file did")
    if sink.size == 0:
        sink.discard()
        raise HTTPException(422, "empty file (0 bytes)")
    return sink
