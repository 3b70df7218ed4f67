"""``python -m filestack_async.emulator`` is ``filestack-async emulator``."""

import sys

from ..cli import main

raise SystemExit(main(["emulator", *sys.argv[1:]]))
