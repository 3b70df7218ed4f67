"""The SDK's main job end to end against the embedded emulator.

Run it with ``python -m filestack_async.demo`` (the same as ``filestack-async demo``;
``--json`` prints a summary). It starts the emulator on a free loopback port (strict
mode, with an app secret), makes a sample image and a short sample video, then
uploads, transforms, signs, reads metadata, converts, overwrites and deletes, checking
each result for real. Exits 0 only when every step succeeded; otherwise it names the
failing step. Needs the ``emulator`` extra (Starlette, uvicorn, Pillow, PyAV); progress
bars appear on a terminal when the ``cli`` extra (rich) is installed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; ``argv`` are the ``filestack-async demo`` options (``--json``, ``--debug``)."""
    from .cli import main as cli_main

    return cli_main(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
