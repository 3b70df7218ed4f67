"""Profile one SDK upload with py-spy (every thread) and print where the CPU time goes.

    python -m bench.profile_upload                    # 1 GiB, regular, loopback
    python -m bench.profile_upload --intelligent --size 256
    python -m bench.profile_upload --small 300        # 300 x 64 KiB through upload_many
    python -m bench.profile_upload --small 500 --concurrency 64

The emulator runs in a subprocess on a free loopback port; the client is a
`bench.workers` process run under ``py-spy record --threads`` (py-spy must be installed
and allowed to read the child process). Samples are grouped into categories (MD5,
file reads, httpx/httpcore send and receive, the SDK's own code, ...); idle samples
(threads waiting for work, the loop in epoll) are left out of the percentages.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.common import ROOT, MiB, emulator, make_file

IDLE = "idle"

#: (category, test on the joined stack, test on the leaf frame); first match wins
RULES: list[tuple[str, str, str]] = [
    (IDLE, "LagMonitor._watch", ""),  # the benchmark's own watchdog, asleep nearly always
    ("worker threads: MD5", "_md5_of", ""),
    ("worker threads: file reads (os.pread)", "read_at", ""),
    (IDLE, "", "Condition.wait"),
    (IDLE, "", "EpollSelector.select"),
    ("startup: imports", "_find_and_load", ""),
    ("event loop: socket writes (copy into the kernel)", "", "_SelectorSocketTransport.write"),
    ("event loop: httpcore pool bookkeeping", "_assign_requests_to_connections", ""),
    ("event loop: httpcore/h11 request send", "_send_request_", ""),
    ("event loop: httpcore/h11 response receive and close", "_receive_response_headers", ""),
    ("event loop: httpcore/h11 response receive and close", "Response.aread", ""),
    ("event loop: httpcore/h11 response receive and close", "Response.aclose", ""),
    ("event loop: httpx client (other)", "AsyncClient.send", ""),
    ("event loop: SDK HTTP layer (_http.py, redaction, ids)", "filestack_async/_http.py", ""),
    ("event loop: SDK upload code (_uploads/*)", "", "filestack_async/_uploads"),
    ("event loop: thread hand-off (to_thread)", "run_sync_in_worker_thread", ""),
]


def categorize(stack: str) -> str:
    """The category of one folded py-spy stack."""
    leaf = stack.rsplit(";", 1)[-1]
    for name, in_stack, at_leaf in RULES:
        if (not in_stack or in_stack in stack) and (not at_leaf or at_leaf in leaf):
            return name
    return "worker threads: other" if "MainThread" not in stack else "event loop: other"


def main(argv: list[str]) -> int:
    """Run the profile and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB (default 1024)")
    parser.add_argument("--intelligent", action="store_true")
    parser.add_argument("--small", type=int, help="upload this many 64 KiB files instead")
    parser.add_argument("--concurrency", type=int, default=16, help="files in flight (--small)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args(argv)
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    directory = Path(args.dir)
    size = 64 * 1024 if args.small else args.size * MiB
    path = make_file(size, directory)
    raw = directory / "bench-profile.txt"
    with emulator(wan=False, directory=directory) as server:
        spec = {"client": "sdk", "mode": "many" if args.small else "path", "path": str(path),
                "flow": "intelligent" if args.intelligent else "regular",
                "count": args.small or 1, "concurrency": args.concurrency,
                "base": server.base}  # fmt: skip
        out = subprocess.run(
            ["py-spy", "record", "--threads", "-r", str(args.rate), "-f", "raw", "-o", str(raw),
             "--", sys.executable, "-m", "bench.workers", json.dumps(spec)],
            cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
    result = json.loads([x for x in out.stdout.splitlines() if x.startswith("{")][-1])
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        counts[categorize(stack)] += int(samples)
    busy = sum(n for name, n in counts.items() if name != IDLE)
    print(f"{result['bytes'] / MiB:.0f} MiB in {result['seconds']:.2f} s "
          f"({result['bytes'] / MiB / result['seconds']:.0f} MiB/s under the profiler), "
          f"{busy} busy samples at {args.rate} Hz")  # fmt: skip
    print("| where | share of busy samples |\n|---|---|")
    for name, n in sorted(counts.items(), key=lambda x: -x[1]):
        if name != IDLE:
            print(f"| {name} | {n / busy:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
