"""The ``filestack-async`` command.

    filestack-async upload photo.jpg --intelligent
    filestack-async transform HANDLE resize=width:200/flip --store
    filestack-async demo
    filestack-async emulator --port 8700 --data-dir ./fs-data [--secret S] [--strict]

Each subcommand sets ``run`` (``(args, output) -> exit code``); ``main`` parses, runs it
and turns errors into one line on stderr and an exit code (the table is in
``docs/cli.md``). Rich is imported only by commands that draw progress bars.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, cast

from ._cli import commands
from ._cli.output import (
    EXIT_INTERRUPTED,
    EXIT_MISSING_EXTRA,
    EXIT_USAGE,
    CommandFailed,
    Output,
    describe_error,
    error_object,
)
from ._cli.output import exit_code as _exit_code
from ._redact import redact_text
from ._version import __version__

if TYPE_CHECKING:
    from .emulator import Faults

Command = Callable[[argparse.Namespace, Output], int]


def _add_emulator(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "emulator",
        help="run the local Filestack emulator",
        description="Run the local Filestack emulator (needs the 'emulator' extra).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    p.add_argument("--port", type=int, default=8700, help="port (0 picks a free one)")
    p.add_argument("--data-dir", help="where files are kept (default: a temporary folder)")
    p.add_argument(
        "--secret",
        help="app secret: check policies and signatures, guard the control plane "
        "(shows in ps: prefer FILESTACK_EMULATOR_SECRET or --secret-file)",
    )
    p.add_argument("--secret-file", help="read the app secret from this file (first line)")
    p.add_argument(
        "--allow-open",
        action="store_true",
        help="listen beyond loopback without a secret (anyone reaching it controls it)",
    )
    p.add_argument("--apikey", action="append", default=[], help="accept only these API keys")
    p.add_argument("--strict", action="store_true", help="reject every protocol deviation")
    p.add_argument(
        "--upload-expiry",
        type=_positive_seconds,
        default=24 * 3600.0,
        metavar="SECONDS",
        help="remove unfinished uploads this long after their start (default 86400: 24 h)",
    )
    team = p.add_argument_group("for app teams: webhooks, journal, seed data, dashboard")
    team.add_argument(
        "--webhook", action="append", default=[], metavar="URL", help="send webhooks here"
    )
    team.add_argument(
        "--webhook-secret-file",
        help=f"sign webhooks with the key in this file (or ${WEBHOOK_SECRET_ENV}; "
        "default: the app secret)",
    )
    team.add_argument(
        "--webhook-retry-scale",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply the retry delays (5 min, 30 min, 12 h) by this",
    )
    team.add_argument("--webhook-timeout", type=float, default=10.0, metavar="SECONDS")
    team.add_argument(
        "--webhook-allow-remote",
        action="store_true",
        help="allow webhook URLs beyond loopback",
    )
    team.add_argument("--journal-file", help="append every request served here as JSON lines")
    team.add_argument("--journal-size", type=int, default=2000, help="requests kept in memory")
    team.add_argument("--seed-data", help="store these files at start: a folder or a JSON manifest")
    team.add_argument("--no-dashboard", action="store_true", help="do not serve the dashboard")
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
    faults.add_argument(
        "--chunk-s3-code",
        choices=("RequestTimeout", "IncompleteBody"),
        help="answer those PUTs as S3 does (400 XML with this Code) instead of a reset",
    )
    faults.add_argument("--complete-202", type=int, default=0, help="202s before complete succeeds")
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    faults.add_argument("--bandwidth", type=float, help="bytes per second per request body")
    faults.add_argument(
        "--wan-profile", action="store_true", help="40 ms per request and 16 MiB/s per connection"
    )
    p.set_defaults(run=lambda args, out: _run_emulator(args))
    p.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="errors as JSON objects"
    )


#: the environment variable the emulator reads its app secret from
EMULATOR_SECRET_ENV = "FILESTACK_EMULATOR_SECRET"
#: the environment variable the emulator reads its webhook signing key from
WEBHOOK_SECRET_ENV = "FILESTACK_EMULATOR_WEBHOOK_SECRET"


def _secret_from_file(path: str, what: str) -> str:
    """The first line of ``path``; `ValueError` naming ``what`` if unreadable or empty."""
    try:
        with open(path, encoding="utf-8") as file:
            secret = file.readline().rstrip("\r\n")
    except OSError as err:
        raise ValueError(f"cannot read the {what} file {path!r}: {err.strerror}") from None
    if not secret:
        raise ValueError(f"the {what} file {path!r} is empty")
    return secret


def _emulator_secret(args: argparse.Namespace) -> str | None:
    """The emulator's secret: ``--secret``, else ``--secret-file``, else the environment."""
    import os

    if args.secret:
        return str(args.secret)
    if args.secret_file:
        return _secret_from_file(args.secret_file, "secret")
    return os.environ.get(EMULATOR_SECRET_ENV) or None


def _webhook_secret(args: argparse.Namespace) -> str | None:
    """The webhook signing key: ``--webhook-secret-file``, else the environment."""
    import os

    if args.webhook_secret_file:
        return _secret_from_file(args.webhook_secret_file, "webhook secret")
    return os.environ.get(WEBHOOK_SECRET_ENV) or None


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def _emulator_faults(args: argparse.Namespace) -> Faults:
    """The faults the flags ask for (one rule at most, a network profile).

    Raises:
        FaultConfigError: a rate, status or size is out of range.
    """
    from .emulator import Faults, NetworkProfile, RouteFault

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
    return Faults(
        seed=args.seed,
        rules=tuple(rules),
        max_chunk_size=args.max_chunk_size,
        chunk_s3_code=args.chunk_s3_code,
        complete_202=args.complete_202,
        network=network,
    )


def _run_emulator(args: argparse.Namespace) -> int:
    try:
        from .emulator import FaultConfigError
        from .emulator.server import EmulatorServer, ListenError
    except ImportError as err:
        raise CommandFailed(
            f"the emulator needs the 'emulator' extra: pip install 'filestack-async[emulator]' "
            f"({err.name} is missing)",
            EXIT_MISSING_EXTRA,
        ) from err
    from pathlib import Path

    try:
        faults = _emulator_faults(args)
    except FaultConfigError as err:
        raise CommandFailed(str(err), EXIT_USAGE) from err
    try:
        secret = _emulator_secret(args)
        webhook_secret = _webhook_secret(args)
    except ValueError as err:
        raise CommandFailed(str(err), EXIT_USAGE) from err
    try:
        server = EmulatorServer(
            host=args.host,
            port=args.port,
            allow_open=args.allow_open,
            data_dir=Path(args.data_dir) if args.data_dir else None,
            secret=secret,
            apikeys=frozenset(args.apikey),
            strict=args.strict,
            faults=faults,
            upload_expiry=args.upload_expiry,
            webhooks=tuple(args.webhook),
            webhook_secret=webhook_secret,
            webhook_retry_scale=args.webhook_retry_scale,
            webhook_timeout=args.webhook_timeout,
            webhook_allow_remote=args.webhook_allow_remote,
            journal_file=Path(args.journal_file) if args.journal_file else None,
            journal_size=args.journal_size,
            seed=Path(args.seed_data) if args.seed_data else None,
            dashboard=not args.no_dashboard,
        )
    except (ListenError, ValueError) as err:  # the bind, a webhook URL, the journal, the seed
        message = err.strerror if isinstance(err, ListenError) else err
        raise CommandFailed(str(message), EXIT_USAGE) from err
    url = server.url
    print(f"Filestack emulator listening on {url}", flush=True)
    print(f"  data: {server.emulator.data_dir}", flush=True)
    if secret is not None:
        print("  control: /_emulator/* needs the secret (Authorization: Bearer ...)", flush=True)
    if not args.no_dashboard:
        print(f"  dashboard: {url}/_emulator/dashboard", flush=True)
    print(f"  use:  Client(apikey, base_url={url!r})  or  FILESTACK_BASE_URL={url}", flush=True)
    server.serve_forever()
    return 0


def _add_demo(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the SDK end to end against a local emulator",
        description=(
            "Start the emulator (strict, with an app secret) on a free loopback port, make a "
            "sample image and video, and run upload, transform+store+download, a signed URL, "
            "metadata, a video conversion, overwrite and delete, checking each result. "
            "Needs the 'emulator' extra."
        ),
    )
    p.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON summary"
    )
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace, out: Output) -> int:
    from ._cli.demo import main as run_demo

    return run_demo(out)


class UsageError(Exception):
    """A command line argparse refused; ``parser`` is the (sub)parser that refused it."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are raised, so ``main`` reports them."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand.

    The connection and output flags (``--apikey``, ``--json``...) are accepted both
    before and after the command name.
    """
    parser = _Parser(
        prog="filestack-async",
        description="Filestack from the command line.",
        parents=[commands.connection_options()],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND"),
    )
    commands.register(subparsers)
    _add_demo(subparsers)
    _add_emulator(subparsers)
    return parser


def _asks_for_json(words: Sequence[str]) -> bool:
    """True when ``--json`` is among the options (before any ``--``)."""
    options = words[: list(words).index("--")] if "--" in words else words
    return "--json" in options


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(words)
    except UsageError as err:
        err.parser.print_usage(sys.stderr)
        sys.stderr.write(f"{err.parser.prog}: error: {err.message}\n")
        if _asks_for_json(words):
            Output(json_mode=True).json(error_object("UsageError", err.message, EXIT_USAGE))
        return EXIT_USAGE
    except SystemExit as done:  # --help or --version
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_USAGE
    out = Output(json_mode=bool(getattr(args, "json", False)))
    try:
        return run(args, out)
    except KeyboardInterrupt:
        out.error("interrupted")
        out.json_error("KeyboardInterrupt", "interrupted", EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except Exception as err:  # every error becomes one line (and a JSON object) and a code
        code = _exit_code(err)
        if not (isinstance(err, CommandFailed) and err.reported):
            out.error(describe_error(err))
            out.json_error_for(err, code)
        if getattr(args, "debug", False):
            text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
            out.stderr.write(redact_text(text, [*out.secrets, *out.error_secrets]))
        return code


if __name__ == "__main__":
    raise SystemExit(main())
