"""A trio program: upload files concurrently, download them back and check the bytes.

filestack-async runs on anyio, so it works under trio as it does under asyncio: this
program uses trio's own nursery and cancel scopes around the SDK's calls.

Run it against the emulator (``filestack-async emulator --port 8700``)::

    FILESTACK_BASE_URL=http://127.0.0.1:8700 python examples/trio_program.py FILE...

It prints one line per file and exits 1 if any downloaded copy differs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import trio

from filestack_async import Client, UploadProgress


async def round_trip(client: Client, source: Path, target_dir: Path) -> bool:
    """Upload ``source``, download it into ``target_dir``, and compare the two."""

    def on_progress(report: UploadProgress) -> None:
        if report.bytes_acknowledged == report.total:
            print(f"{source.name}: uploaded {report.total} bytes")

    link = await client.upload(filepath=source, progress=on_progress)
    copy = target_dir / f"{link.handle}-{source.name}"
    with trio.fail_after(60):  # a trio cancel scope around the SDK's download
        written = await link.download(copy)
    same = await trio.Path(copy).read_bytes() == await trio.Path(source).read_bytes()
    verdict = "same" if same else "DIFFERENT"
    print(f"{source.name}: {link.url} -> {copy} ({written} bytes, {verdict})")
    return same


async def main(paths: list[Path], target_dir: Path, apikey: str) -> int:
    """Round-trip every path concurrently; 0 when every copy matches."""
    results: dict[Path, bool] = {}
    async with Client(apikey) as client:  # FILESTACK_BASE_URL selects the emulator

        async def one(path: Path) -> None:
            results[path] = await round_trip(client, path, target_dir)

        async with trio.open_nursery() as nursery:
            for path in paths:
                nursery.start_soon(one, path)
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    files = [Path(arg) for arg in sys.argv[1:]]
    if not files:
        sys.exit("usage: trio_program.py FILE...")
    out = Path(os.environ.get("DOWNLOAD_DIR", "."))
    sys.exit(trio.run(main, files, out, os.environ.get("FILESTACK_API_KEY", "MY_KEY")))
