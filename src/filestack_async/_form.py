"""The ``multipart/form-data`` frame around one file, as the File API takes it.

Both File API calls that send a file (``POST /api/store/<storage>`` for a small
upload, ``POST /api/file/<handle>`` for an overwrite) send one field,
``fileUpload``; `file_form` builds its frame once for both.

Example:
    >>> form = file_form("a.txt", "text/plain")
    >>> form.body(b"hi").startswith(b"--filestack-async-")
    True
    >>> form.headers(2)["Content-Length"] == str(len(form.body(b"hi")))
    True
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ._http import Body

__all__ = ["FileForm", "file_form"]

_HEADER_UNSAFE = str.maketrans({ch: "_" for ch in '"\\\r\n'})


@dataclass(frozen=True)
class FileForm:
    """The bytes before and after a file's content (``head + content + tail`` is the
    whole body) and the ``Content-Type`` naming their boundary."""

    head: bytes
    tail: bytes
    content_type: str

    def body(self, content: Body) -> Body:
        """The whole request body around ``content`` (bytes, or a factory of byte streams
        that is called again for each attempt)."""
        if isinstance(content, bytes):
            return b"".join((self.head, content, self.tail))
        head, tail = self.head, self.tail

        async def stream() -> AsyncIterator[bytes | memoryview]:
            yield head
            async for block in content():
                yield block
            yield tail

        return stream

    def headers(self, size: int | None) -> dict[str, str]:
        """``Content-Type``, and ``Content-Length`` for a file of ``size`` bytes (none when
        the size is not known: the body is then sent chunked)."""
        headers = {"Content-Type": self.content_type}
        if size is not None:
            headers["Content-Length"] = str(len(self.head) + size + len(self.tail))
        return headers


def file_form(filename: str, mimetype: str) -> FileForm:
    """The frame of a ``fileUpload`` field holding a file named ``filename`` of type
    ``mimetype`` (quotes, backslashes and line breaks in either become ``_``, so they
    cannot end the header early)."""
    boundary = f"filestack-async-{secrets.token_hex(12)}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="fileUpload"; filename="{_header_safe(filename)}"'
        f"\r\nContent-Type: {_header_safe(mimetype)}\r\n\r\n"
    ).encode()
    return FileForm(
        head=head,
        tail=f"\r\n--{boundary}--\r\n".encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _header_safe(text: str) -> str:
    """``text`` with quotes, backslashes and line breaks replaced (for a multipart header)."""
    return text.translate(_HEADER_UNSAFE)
