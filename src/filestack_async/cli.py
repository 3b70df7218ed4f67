"""The ``filestack-async`` command.

    filestack-async emulator --port 8700 --data-dir ./fs-data [--secret S] [--strict]

Each subcommand registers itself in `COMMANDS`; ``main`` returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ._version import __version__

Command = Callable[[argparse.Namespace], int]


def _add_emulator(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "emulator",
        help="run the local Filestack emulator",
        description="Run the local Filestack emulator (needs the 'emulator' extra).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    p.add_argument("--port", type=int, default=8700, help="port (0 picks a free one)")
    p.add_argument("--data-dir", help="where files are kept (default: a temporary folder)")
    p.add_argument("--secret", help="app secret: check policies and signatures")
    p.add_argument("--apikey", action="append", default=[], help="accept only these API keys")
    p.add_argument("--strict", action="store_true", help="reject every protocol deviation")
    faults = p.add_argument_group("faults (seeded, reproducible)")
    faults.add_argument("--seed", type=int, default=0)
    faults.add_argument("--fault-route", default="*", help="route the rates apply to (default *)")
    faults.add_argument(
        "--error-rate", type=float, default=0.0, help="share answered with an error"
    )
    faults.add_argument("--error-status", type=int, default=503)
    faults.add_argument("--retry-after", type=float, help="Retry-After seconds on errors")
    faults.add_argument("--reset-rate", type=float, default=0.0, help="share of connection resets")
    faults.add_argument("--delay-rate", type=float, default=0.0, help="share of delayed requests")
    faults.add_argument("--delay", type=float, default=0.0, help="seconds of delay")
    faults.add_argument("--max-chunk-size", type=int, help="part/chunk PUTs above this fail")
    faults.add_argument("--complete-202", type=int, default=0, help="202s before complete succeeds")
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    faults.add_argument("--bandwidth", type=float, help="bytes per second per request body")
    faults.add_argument(
        "--wan-profile", action="store_true", help="40 ms per request and 16 MiB/s per connection"
    )
    p.set_defaults(run=_run_emulator)


def _run_emulator(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .emulator import EmulatorConfig, FaultConfigError, Faults, NetworkProfile, RouteFault
        from .emulator.app import Emulator
    except ImportError as err:
        print(
            f"the emulator needs the 'emulator' extra: pip install 'filestack-async[emulator]' "
            f"({err.name} is missing)",
            file=sys.stderr,
        )
        return 3
    from pathlib import Path

    try:
        rules = []
        if args.error_rate or args.reset_rate or args.delay_rate:
            rules.append(
                RouteFault(
                    route=args.fault_route,
                    error_rate=args.error_rate,
                    status=args.error_status,
                    retry_after=args.retry_after,
                    reset_rate=args.reset_rate,
                    delay_rate=args.delay_rate,
                    delay=args.delay,
                )
            )
        network = None
        if args.wan_profile:
            network = NetworkProfile.wan()
        elif args.latency or args.bandwidth:
            network = NetworkProfile(latency=args.latency, bandwidth=args.bandwidth)
        faults = Faults(
            seed=args.seed,
            rules=tuple(rules),
            max_chunk_size=args.max_chunk_size,
            complete_202=args.complete_202,
            network=network,
        )
    except FaultConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    config = EmulatorConfig(
        data_dir=Path(args.data_dir) if args.data_dir else None,
        secret=args.secret,
        apikeys=frozenset(args.apikey),
        strict=args.strict,
        faults=faults,
    )
    emulator = Emulator(config)
    host = f"[{args.host}]" if ":" in args.host else args.host
    server = uvicorn.Server(
        uvicorn.Config(emulator.app, host=args.host, port=args.port, log_level="warning")
    )
    try:
        import socket

        sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
        sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    except OSError as err:
        emulator.close()
        print(f"error: cannot listen on {host}:{args.port}: {err.strerror}", file=sys.stderr)
        return 2
    url = f"http://{host}:{sock.getsockname()[1]}"
    print(f"Filestack emulator listening on {url}", flush=True)
    print(f"  data: {emulator.data_dir}", flush=True)
    print(f"  use:  Client(apikey, base_url={url!r})  or  FILESTACK_BASE_URL={url}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        emulator.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="filestack-async", description="Filestack from the command line."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_emulator(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
