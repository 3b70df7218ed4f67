"""Every ```python block of the docs and the README runs, against the emulator.

How a page runs (one test per page that has Python blocks, so a new page is picked up
by itself):

* an `EmulatorServer` starts on a free loopback port and ``FILESTACK_BASE_URL`` points
  at it, so ``Client("APIKEY")`` and the sync ``Client("APIKEY")`` of the samples talk
  to it; the working directory is a fresh folder holding the files the samples name
  (``photo.jpg``, ``big.mp4``, ``clip.mov``, ``a.bin``...; images and videos are real);
* the page's blocks run in order in one namespace, as a reader would type them into
  one session; a block with top-level ``await`` runs as a coroutine on the test's event
  loop (``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT``), any other block in a worker thread (so the
  sync facade sees no running loop, as in a script);
* the namespace starts with the names the prose assumes (`sample_namespace`): an open
  async ``client``, an uploaded image ``link``, a ``policy``, a signed webhook
  (``raw_body``, ``request``), a download ``response`` of ``n`` bytes and an async
  generator function ``chunks``; the handle ``AbCdEfGhIjKlMnOpQrSt`` exists (an image,
  or a video on the pages listed in `SAMPLE_HANDLE_KIND`);
* afterwards every client the page opened and left open is closed.

A block that cannot run (a ``conftest.py`` line, a test function for a user's suite)
is fenced ```python {.no-run} and is only compiled. An exception in a runnable block fails
the page's test, with a traceback pointing at the Markdown file and line.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import inspect
import io
import os
import re
import shutil
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import CodeType, SimpleNamespace
from typing import Any

import anyio
import anyio.to_thread
import av
import httpx
import pytest
from PIL import Image

import filestack_async
import filestack_async.sync
from filestack_async import Client
from filestack_async.emulator import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
SAMPLE_HANDLE = "AbCdEfGhIjKlMnOpQrSt"
#: what the handle the samples use holds, per page (default: an image)
SAMPLE_HANDLE_KIND = {"av.md": "video"}
WEBHOOK_SECRET = "WEBHOOK_SECRET"

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """One fenced Python block of a page."""

    path: Path
    line: int  # the line of the block's first line of code in the file
    source: str
    runnable: bool

    def compile(self) -> CodeType:
        """Compiled so that tracebacks name the Markdown file and its line numbers."""
        padded = "\n" * (self.line - 1) + self.source
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        code: CodeType = compile(padded, str(self.path), "exec", flags=flags, dont_inherit=True)
        return code


def extract_blocks(path: Path, text: str | None = None) -> list[Block]:
    """The ```python blocks of a Markdown file; ```python {.no-run} marks one not to run."""
    text = path.read_text(encoding="utf-8") if text is None else text
    blocks = []
    for match in _FENCE.finditer(text):
        info = match["info"].replace("{", " ").replace("}", " ").replace(".", " ").split()
        line = text.count("\n", 0, match.start("body")) + 1
        source = textwrap.dedent(match["body"])
        blocks.append(Block(path, line, source, runnable="no-run" not in info))
    return blocks


def pages_with_samples() -> list[Path]:
    return [page for page in PAGES if extract_blocks(page)]


# -- the sample files and names the docs assume ------------------------------------------


def _image(fmt: str) -> bytes:
    image = Image.new("RGB", (320, 240), (30, 90, 160))
    image.paste((230, 60, 40), (0, 0, 160, 120))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _video(path: Path) -> None:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(10):  # one second
            frame = av.VideoFrame(64, 48, "rgb24")
            frame.planes[0].update(bytes([index * 20, 100, 200 - index * 20]) * (64 * 48))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_sample_files(folder: Path) -> None:
    """The files the samples name, in the folder they run in."""
    jpeg, png = _image("JPEG"), _image("PNG")
    (folder / "photo.jpg").write_bytes(jpeg)
    (folder / "a.jpg").write_bytes(jpeg)
    (folder / "b.png").write_bytes(png)
    (folder / "a.bin").write_bytes(os.urandom(64 * 1024))
    _video(folder / "clip.mp4")
    for name in ("video.mp4", "big.mp4", "clip.mov"):
        shutil.copy(folder / "clip.mp4", folder / name)


async def _seed_handle(server: EmulatorServer, client: Client, content: bytes) -> None:
    """Store ``content`` under the fixed handle the samples use."""
    link = await client.upload(content=content)
    storage = server.emulator.storage

    def clone() -> None:
        stored = storage.get_file(link.handle)
        assert stored is not None
        storage.add_file(replace(stored, handle=SAMPLE_HANDLE))  # both rows share the bytes

    await anyio.to_thread.run_sync(clone)


def signed_webhook(body: bytes) -> dict[str, str]:
    """Headers Filestack would send with a webhook ``body``."""
    timestamp = str(int(time.time()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"FS-Signature": digest.hexdigest(), "FS-Timestamp": timestamp}


async def sample_namespace(
    stack: AsyncExitStack, server: EmulatorServer, folder: Path, page: str
) -> dict[str, Any]:
    """The names a page's samples may use without defining them."""
    client = await stack.enter_async_context(Client("APIKEY"))
    kind = SAMPLE_HANDLE_KIND.get(page, "image")
    seed = (folder / "clip.mp4").read_bytes() if kind == "video" else _image("PNG")
    await _seed_handle(server, client, seed)
    link = await client.upload(filepath=folder / "b.png")

    download = b"streamed from elsewhere " * 1000
    webhook = b'{"action": "fp.upload", "text": {"url": "https://cdn.filestackcontent.com/x"}}'

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield os.urandom(10_000)

    return {
        "__name__": "__docs__",
        "client": client,
        "link": link,
        "policy": {"expiry": int(time.time()) + 3600, "call": ["read", "convert", "store"]},
        "raw_body": webhook,
        "request": SimpleNamespace(headers=signed_webhook(webhook)),
        "response": httpx.Response(200, content=download),
        "n": len(download),
        "chunks": chunks,
    }


async def _close_leftovers(namespace: dict[str, Any]) -> None:
    """Close the clients a page created and did not close (``client = Client(...)``)."""
    for value in list(namespace.values()):
        if isinstance(value, filestack_async.Client):
            await value.aclose()
        elif isinstance(value, filestack_async.sync.Client):
            await anyio.to_thread.run_sync(value.close)


async def run_blocks(blocks: list[Block], namespace: dict[str, Any]) -> int:
    """Run the runnable blocks in order in ``namespace``; returns how many ran."""
    ran = 0
    for block in blocks:
        code = block.compile()  # a no-run block must still be valid Python
        if not block.runnable:
            continue
        if code.co_flags & inspect.CO_COROUTINE:
            await eval(code, namespace)
        else:
            await anyio.to_thread.run_sync(exec, code, namespace)
        ran += 1
    return ran


@contextmanager
def docs_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An emulator on loopback, ``FILESTACK_BASE_URL`` set, a work folder with sample files."""
    work = tmp_path / "work"
    work.mkdir()
    write_sample_files(work)
    monkeypatch.chdir(work)
    with EmulatorServer(data_dir=tmp_path / "emulator") as server:
        monkeypatch.setenv("FILESTACK_BASE_URL", server.url)
        monkeypatch.setenv("FILESTACK_API_KEY", "DOCS-APIKEY")  # for Client() with no key
        yield server


def run_page(blocks: list[Block], server: EmulatorServer, page: str) -> int:
    async def main() -> int:
        async with AsyncExitStack() as stack:
            namespace = await sample_namespace(stack, server, Path.cwd(), page)
            try:
                return await run_blocks(blocks, namespace)
            finally:
                await _close_leftovers(namespace)

    return anyio.run(main)


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", pages_with_samples(), ids=lambda p: p.name)
def test_the_samples_of_a_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = extract_blocks(page)
    with docs_environment(tmp_path, monkeypatch) as server:
        ran = run_page(blocks, server, page.name)
    assert ran == sum(block.runnable for block in blocks)


def test_the_docs_have_samples_and_mark_few_as_not_runnable() -> None:
    blocks = [block for page in PAGES for block in extract_blocks(page)]
    runnable = [block for block in blocks if block.runnable]
    assert len(runnable) >= 15
    assert len(blocks) - len(runnable) <= 6, "no-run is for the few blocks that cannot run"


def test_a_broken_sample_fails_and_no_run_blocks_are_only_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "page.md"
    text = (
        "# A page\n\n"
        "```python\nstored = await client.upload(content=b'ok')\n```\n\n"
        "```python {.no-run}\nraise SystemExit('never run')\n```\n\n"
        "- in a list:\n\n"
        "  ```python\n  data = await stored.get_content()\n  assert data == b'not ok'\n  ```\n"
    )
    page.write_text(text)
    blocks = extract_blocks(page)
    assert [(b.line, b.runnable) for b in blocks] == [(4, True), (8, False), (14, True)]
    with docs_environment(tmp_path, monkeypatch) as server:
        with pytest.raises(AssertionError) as failure:
            run_page(blocks, server, page.name)
    # the traceback points at the Markdown file and the failing line
    frames = [(entry.path, entry.lineno + 1) for entry in failure.traceback]
    assert (page, 15) in frames

    page.write_text("```python {.no-run}\ndef broken(:\n```\n")
    with pytest.raises(SyntaxError):
        extract_blocks(page)[0].compile()
