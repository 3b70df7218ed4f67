"""What the command line writes: results (plain or ``--json``), progress bars and errors.

Results go to stdout, one JSON document with ``--json``; errors go to stderr as one
line. Progress bars (rich) are shown only when stdout is a terminal and ``--json``
is off; without rich installed the results are printed plainly and no bar is drawn.
Every line passes through `redact_text` with the secrets of the run, so the app
secret, signatures and policies never reach the terminal by accident (``sign``,
whose job it is to print a signature, writes with ``redact=False``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, BinaryIO, Literal, Protocol, cast

from .._exceptions import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConversionError,
    LocalFileError,
    NotFoundError,
    PermissionDeniedError,
    UploadError,
)
from .._redact import redact_text

Unit = Literal["bytes", "percent"]

# -- exit codes ---------------------------------------------------------------------------

EXIT_OK = 0
#: a demo step failed, or an unexpected internal error
EXIT_FAILED = 1
#: bad usage or configuration (``ConfigurationError``); argparse uses 2 as well
EXIT_USAGE = 2
#: an optional extra is not installed (``emulator`` for ``emulator`` and ``demo``)
EXIT_MISSING_EXTRA = 3
#: 401 / 403: the API key, policy or signature was refused
EXIT_AUTH = 4
#: 404: no such file
EXIT_NOT_FOUND = 5
#: any other API error: other statuses, connection failures, timeouts, bad answers
EXIT_API = 6
#: an upload or a conversion failed (or a conversion did not finish in time)
EXIT_TRANSFER = 7
#: a local file could not be read or written
EXIT_LOCAL_FILE = 8
#: interrupted with Ctrl+C
EXIT_INTERRUPTED = 130


class CommandFailed(Exception):
    """A command ran but did not succeed (a demo step, some of several uploads).

    ``code`` is the exit code; the message has already been printed when ``reported``.
    """

    def __init__(self, message: str, code: int = EXIT_FAILED, *, reported: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.reported = reported


def leaf_error(err: BaseException) -> BaseException:
    """The one exception inside (nested) single-member exception groups, else ``err``."""
    while True:
        inner = getattr(err, "exceptions", None)
        if isinstance(inner, tuple) and len(inner) == 1 and isinstance(inner[0], BaseException):
            err = inner[0]
        else:
            return err


def exit_code(err: BaseException) -> int:
    """The exit code for an error (see the table in ``docs/cli.md``)."""
    err = leaf_error(err)
    if isinstance(err, CommandFailed):
        return err.code
    if isinstance(err, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(err, ConfigurationError):
        return EXIT_USAGE
    if isinstance(err, ImportError):
        return EXIT_MISSING_EXTRA
    if isinstance(err, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(err, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(err, (UploadError, ConversionError, TimeoutError)):
        return EXIT_TRANSFER
    if isinstance(err, APIError):
        return EXIT_API
    if isinstance(err, OSError):
        return EXIT_LOCAL_FILE
    return EXIT_FAILED


def attempts_of(err: BaseException) -> int | None:
    """How many times the failed request was sent (`APIError.attempts`), if known.

    Looks through the error's causes too: an upload error caused by a part's
    `APIError` reports that part's attempts.
    """
    seen: set[int] = set()
    current: BaseException | None = leaf_error(err)
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        attempts = getattr(current, "attempts", None)
        if isinstance(attempts, int) and not isinstance(attempts, bool):
            return attempts
        current = current.__cause__ or current.__context__
    return None


def _message(err: BaseException) -> str:
    if isinstance(err, ImportError):
        missing = err.name or "a module"
        return (
            f"{missing} is not installed; this command needs an extra: "
            "pip install 'filestack-async[emulator,cli]'"
        )
    if isinstance(err, OSError) and err.strerror and not isinstance(err, LocalFileError):
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror}{where}"
    text = str(err) or "no details"
    attempts = attempts_of(err)
    if attempts is not None and attempts > 1:
        text = f"{text} (gave up after {attempts} attempts)"
    return text


def describe_error(err: BaseException) -> str:
    """One line for an error: its class and message (for a missing module, the extra);
    for a request that was retried, how many attempts were made."""
    err = leaf_error(err)
    if isinstance(err, CommandFailed):
        return _message(err)
    return f"{type(err).__name__}: {_message(err)}"


def error_object(kind: str, message: str, code: int, attempts: int | None = None) -> dict[str, Any]:
    """The JSON printed for an error with ``--json``: ``{"error": {...}}``."""
    body: dict[str, Any] = {"type": kind, "message": message, "exit_code": code}
    if attempts is not None:
        body["attempts"] = attempts
    return {"error": body}


# -- progress bars ------------------------------------------------------------------------


class Bars(Protocol):
    """Progress bars: one per transfer or conversion."""

    def add(self, description: str, total: float | None = None, unit: Unit = "bytes") -> int:
        """Start a bar and return its id (``total=None``: size unknown)."""
        ...

    def update(self, bar: int, completed: float, total: float | None = None) -> None:
        """Move a bar to ``completed`` (bytes or percent); may be called from a thread."""
        ...


class NoBars:
    """No progress display (not a terminal, ``--json``, or rich missing)."""

    def add(self, description: str, total: float | None = None, unit: Unit = "bytes") -> int:
        return 0

    def update(self, bar: int, completed: float, total: float | None = None) -> None:
        return None


class _RichBars:
    def __init__(self, progress: Any) -> None:
        self._progress = progress

    def add(self, description: str, total: float | None = None, unit: Unit = "bytes") -> int:
        return int(self._progress.add_task(description, total=total, unit=unit))

    def update(self, bar: int, completed: float, total: float | None = None) -> None:
        if total is not None:
            self._progress.update(bar, completed=completed, total=total)
        else:
            self._progress.update(bar, completed=completed)


def _rich_progress(console: Any) -> Any:
    """A rich ``Progress`` with bytes, speed and ETA columns (percent for conversions)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.text import Text

    class AmountColumn(ProgressColumn):
        """Bytes done / total for transfers, a percentage for conversions."""

        def __init__(self) -> None:
            super().__init__()
            self._bytes = DownloadColumn()

        def render(self, task: Task) -> Text:
            if task.fields.get("unit") == "percent":
                return Text(f"{task.completed:>3.0f}%", style="progress.percentage")
            return self._bytes.render(task)

    class SpeedColumn(ProgressColumn):
        """Transfer speed (nothing for conversions)."""

        def __init__(self) -> None:
            super().__init__()
            self._speed = TransferSpeedColumn()

        def render(self, task: Task) -> Text:
            if task.fields.get("unit") == "percent":
                return Text("")
            return self._speed.render(task)

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        AmountColumn(),
        SpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


# -- output --------------------------------------------------------------------------------


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


class Output:
    """Where a command writes; see the module docstring.

    Args:
        json_mode: print one JSON document instead of human lines.
        secrets: strings to mask wherever they appear.
        stdout, stderr: the streams (default: ``sys.stdout``, ``sys.stderr``).
    """

    def __init__(
        self,
        *,
        json_mode: bool = False,
        secrets: Sequence[str] = (),
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.secrets = [s for s in secrets if s]
        #: masked in error lines only (the API key: results may hold URLs that need it)
        self.error_secrets: list[str] = []
        #: stdout is a terminal and results are for a person: bars may be drawn
        self.interactive = not json_mode and _is_terminal(self.stdout)
        self._console: Any = None

    def add_secret(self, *values: str) -> None:
        """Mask these strings too from now on."""
        self.secrets.extend(v for v in values if v)

    def add_error_secret(self, *values: str) -> None:
        """Mask these strings in error lines (results may show them)."""
        self.error_secrets.extend(v for v in values if v)

    def redact(self, text: str) -> str:
        """``text`` with the run's secrets and credential-looking fields masked."""
        return redact_text(text, self.secrets)

    def _rich_console(self) -> Any:
        if self._console is None and self.interactive:
            try:
                from rich.console import Console
            except ImportError:
                self.interactive = False
                return None
            self._console = Console(file=self.stdout, force_terminal=True, highlight=False)
        return self._console

    def line(self, text: str = "", *, redact: bool = True) -> None:
        """A human-readable line (not printed with ``--json``)."""
        if self.json_mode:
            return
        if redact:
            text = self.redact(text)
        console = self._rich_console() if self.interactive else None
        if console is not None:
            console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self.stdout.write(text + "\n")
            self.stdout.flush()

    def json(self, data: Any, *, redact: bool = True) -> None:
        """The machine-readable result (printed only with ``--json``)."""
        if not self.json_mode:
            return
        text = json.dumps(data, indent=2, sort_keys=False, default=str)
        if redact:
            text = self.redact(text)
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def error(self, message: str) -> None:
        """One line on stderr (always, also with ``--json``), redacted."""
        flat = " ".join(redact_text(message, [*self.secrets, *self.error_secrets]).split())
        self.stderr.write(f"filestack-async: error: {flat}\n")
        self.stderr.flush()

    def note(self, message: str) -> None:
        """A progress note on stderr (a retry), redacted; not printed with ``--json``."""
        if self.json_mode:
            return
        flat = " ".join(redact_text(message, [*self.secrets, *self.error_secrets]).split())
        self.stderr.write(f"filestack-async: {flat}\n")
        self.stderr.flush()

    def json_error(self, kind: str, message: str, code: int, attempts: int | None = None) -> None:
        """With ``--json``: the error as one JSON object on stdout (see `error_object`)."""
        if not self.json_mode:
            return
        text = redact_text(message, [*self.secrets, *self.error_secrets])
        self.json(error_object(kind, text, code, attempts))

    def json_error_for(self, err: BaseException, code: int) -> None:
        """`json_error` for an exception."""
        err = leaf_error(err)
        self.json_error(type(err).__name__, _message(err), code, attempts_of(err))

    def binary_stdout(self) -> BinaryIO:
        """stdout for bytes (``content``)."""
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            raise ConfigurationError("stdout cannot take bytes here")
        return cast(BinaryIO, buffer)

    @contextmanager
    def bars(self) -> Iterator[Bars]:
        """Progress bars for the block (none unless interactive and rich is installed)."""
        console = self._rich_console() if self.interactive else None
        if console is None:
            yield NoBars()
            return
        with _rich_progress(console) as progress:
            yield _RichBars(progress)


# -- writing downloads ----------------------------------------------------------------------


class CountingWriter:
    """A binary file object that reports the bytes written so far to ``on_write``."""

    def __init__(self, target: BinaryIO, on_write: Callable[[int], None]) -> None:
        self._target = target
        self._on_write = on_write
        self.written = 0

    def write(self, data: bytes) -> int:
        count = self._target.write(data)
        self.written += len(data) if count is None else count
        self._on_write(self.written)
        return len(data) if count is None else count

    def flush(self) -> None:
        self._target.flush()
