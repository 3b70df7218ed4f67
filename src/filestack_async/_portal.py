"""The loop thread behind `filestack_async.sync`: one shared blocking portal per process.

Every sync `Client` takes a `Lease` on a module-level
``anyio.from_thread.BlockingPortalProvider`` (asyncio backend): the first lease
starts one event-loop thread, the last `Lease.release` stops and joins it. The
async client is built inside that loop (`start_client`), so loop-bound objects
(connection pool, limiters) never touch the caller's thread. Each blocking call
is one task on the portal (`Lease.run`); Ctrl+C cancels it.

Guards:

* a call from the loop thread itself (a progress callback) raises `LoopThreadError`
  instead of deadlocking;
* after ``os.fork()`` the child gets a fresh provider, and a client (or an object
  it made) from the parent raises `ForkedProcessError`;
* a call from a thread that runs an event loop (Jupyter, async code) works, with a
  once-per-process `RuntimeWarning`;
* nothing here runs I/O from ``__del__``; an unclosed client is only reported by a
  ``ResourceWarning`` from a ``weakref.finalize`` when it is garbage collected.
"""

from __future__ import annotations

import abc
import inspect
import os
import sys
import threading
import warnings
import weakref
from collections.abc import Awaitable, Callable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio
from anyio.from_thread import BlockingPortal, BlockingPortalProvider

from ._exceptions import ConfigurationError, FilestackError

if TYPE_CHECKING:
    from ._client import Client as AsyncClient

__all__ = [
    "CANCEL_GRACE",
    "ClientLifecycle",
    "ForkedProcessError",
    "Lease",
    "LoopThreadError",
    "PER_CALL",
    "Runner",
    "Same",
    "SyncUsageError",
    "Twin",
    "Wrapper",
    "start_client",
]

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound="ClientLifecycle")
W = TypeVar("W", bound="Twin")

#: Seconds a cancelled call (Ctrl+C) gets to run its cleanup before the interrupt is re-raised.
CANCEL_GRACE = 5.0
#: The caller waits in slices this long, so a signal is handled promptly on every platform.
_WAIT_SLICE = 0.25
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def async_of(value: Any, twin: type[Any], name: str) -> Any:
    """The async object inside a sync twin argument (``None`` stays ``None``).

    Raises:
        ConfigurationError: ``value`` is not an instance of the sync class ``twin``.
    """
    if value is None:
        return None
    if not isinstance(value, twin):
        raise ConfigurationError(
            f"{name} must be a filestack_async.sync.{twin.__name__}, got {type(value).__name__}"
        )
    return value._async


def passed(scope: dict[str, Any]) -> dict[str, Any]:
    """The arguments a generated sync method was called with, to pass on by keyword: its
    ``locals()`` (taken before it binds any name of its own) without ``self``."""
    return {name: value for name, value in scope.items() if name != "self"}


class SyncUsageError(FilestackError, RuntimeError):
    """The sync facade was used in a way that cannot work (see the subclasses)."""


class LoopThreadError(SyncUsageError):
    """A sync call was made from the SDK's own event-loop thread.

    Progress callbacks (and anything else the SDK calls back) run on that thread;
    a blocking call from there would wait for the loop it is blocking. Record what
    you need in the callback and act after the call returns.
    """


class ForkedProcessError(SyncUsageError):
    """A sync client (or an object it made) from the parent process was used after fork.

    Its connection pool and loop thread belong to the parent. Create a new
    ``Client`` in the child process.
    """


class _Shared:
    """Per-process state; replaced in a forked child."""

    def __init__(self) -> None:
        self.provider = BlockingPortalProvider(backend="asyncio")
        self.marked: BlockingPortal | None = None
        self.pid = os.getpid()


_shared = _Shared()
_local = threading.local()
_warned_running_loop = False


def _after_fork_in_child() -> None:
    # The loop thread does not exist in the child; its provider (and lock) must not be reused.
    global _shared
    _shared = _Shared()
    _local.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _mark_loop_thread() -> None:
    _local.loop_thread = True


def in_loop_thread() -> bool:
    """True when called on the facade's event-loop thread (e.g. inside a progress callback)."""
    return bool(getattr(_local, "loop_thread", False))


def _calling_thread_runs_a_loop() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return True
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            return False
        return True
    return False


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this package."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and _in_package(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


def _in_package(filename: str) -> bool:
    return os.path.dirname(os.path.abspath(filename)) == _PACKAGE_DIR


def _warn_if_loop_running() -> None:
    global _warned_running_loop
    if _warned_running_loop or not _calling_thread_runs_a_loop():
        return
    _warned_running_loop = True
    warnings.warn(
        "filestack_async.sync was called from a thread that runs an event loop (Jupyter, "
        "async code): the call works, but blocks that loop until it returns. In async code "
        "use filestack_async.Client and await its methods. (Shown once per process.)",
        RuntimeWarning,
        stacklevel=_user_stacklevel(),
    )


def _loop_thread_error(action: str) -> LoopThreadError:
    return LoopThreadError(
        f"cannot {action} from the SDK's event-loop thread (for example inside a progress "
        "callback): it would wait for the loop it is blocking. Do the work after the call "
        "returns, or use the async Client from async code."
    )


class Runner(abc.ABC):
    """Runs a coroutine function on the loop thread and waits for its result."""

    __slots__ = ()

    @abc.abstractmethod
    def run(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the loop thread; block until it returns."""


class Lease(Runner):
    """One hold on the shared loop thread; a sync `Client` owns one.

    Example:
        >>> lease = Lease.acquire()
        >>> lease.call_in_loop(sum, [1, 2])
        3
        >>> lease.release()
    """

    __slots__ = ("_lock", "_released", "pid", "portal", "provider")

    def __init__(self, provider: BlockingPortalProvider, portal: BlockingPortal) -> None:
        self.provider = provider
        self.portal = portal
        self.pid = os.getpid()
        self._released = False
        self._lock = threading.Lock()

    @classmethod
    def acquire(cls) -> Lease:
        """Take a lease, starting the loop thread if no one holds one.

        Raises:
            LoopThreadError: called from the loop thread.
        """
        if in_loop_thread():
            raise _loop_thread_error("open a sync Client")
        shared = _shared
        portal = shared.provider.__enter__()
        lease = cls(shared.provider, portal)
        if shared.marked is not portal:
            try:
                _wait(portal, _mark_loop_thread, (), {})
            except BaseException:
                lease.release()
                raise
            shared.marked = portal
        return lease

    @property
    def released(self) -> bool:
        """True once `release` ran (the client was closed)."""
        return self._released

    def _check(self) -> None:
        if os.getpid() != self.pid:
            raise ForkedProcessError(
                f"this sync Client was created in process {self.pid} and cannot be used in "
                f"the forked process {os.getpid()}: create a new Client in the child process"
            )
        if self._released:
            raise ConfigurationError("this client is closed; create a new one")
        if in_loop_thread():
            raise _loop_thread_error("call the sync client")

    def run(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the coroutine function ``fn(*args, **kwargs)`` as one task on the loop thread.

        Ctrl+C (or any exception raised in the waiting thread) cancels the task,
        waits up to `CANCEL_GRACE` seconds for its cleanup, then re-raises.
        """
        self._check()
        _warn_if_loop_running()
        result: T = _wait(self.portal, fn, args, kwargs)
        return result

    def call_in_loop(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call the plain function ``fn(*args, **kwargs)`` on the loop thread and return it."""
        self._check()
        _warn_if_loop_running()
        result: T = _wait(self.portal, fn, args, kwargs)
        return result

    def release(self) -> None:
        """Give the lease back (once); the last one stops and joins the loop thread.

        In a forked child the parent's lease is only marked released: its thread
        does not exist there.

        Raises:
            LoopThreadError: called from the loop thread, which cannot join itself.
        """
        with self._lock:
            if self._released:
                return
            if in_loop_thread():
                raise _loop_thread_error("close a sync Client")
            self._released = True
        if os.getpid() == self.pid:
            self.provider.__exit__(None, None, None)


class _PerCall(Runner):
    """The runner of objects made without a client: a lease for the duration of each call.

    While any sync client is open this reuses its loop thread; otherwise each call
    starts and stops one.
    """

    __slots__ = ()

    def run(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        lease = Lease.acquire()
        try:
            return lease.run(fn, *args, **kwargs)
        finally:
            lease.release()


#: The runner of sync objects made on their own (``Filelink(handle)``).
PER_CALL: Runner = _PerCall()


class _Call:
    """One blocking call's task. Its state is only touched on the loop thread."""

    __slots__ = ("cancelled", "finished", "scope", "started")

    def __init__(self) -> None:
        self.cancelled = False
        self.started = False
        self.scope: anyio.CancelScope | None = None
        #: set when the task is over (or, cancelled before it started, will never run)
        self.finished = threading.Event()

    async def invoke(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if self.cancelled:  # interrupted before the task started: do nothing
            return None
        self.started = True
        try:
            with anyio.CancelScope() as self.scope:
                value = fn(*args, **kwargs)
                if inspect.isawaitable(value):
                    value = await value
                return value
            return None  # cancelled by `cancel`; the caller has already raised
        finally:
            self.finished.set()

    def cancel(self) -> None:
        self.cancelled = True
        if self.scope is not None:
            self.scope.cancel()
        elif not self.started:
            self.finished.set()


def _wait(
    portal: BlockingPortal, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Run ``fn`` as a task on ``portal`` and wait; cancel it if the wait is interrupted.

    The wait is in slices so a signal is handled promptly everywhere. An interrupt
    (Ctrl+C) at any point, even while the task is being started, cancels the task
    and waits up to `CANCEL_GRACE` seconds for its cleanup before re-raising.
    """
    call = _Call()
    try:
        future = portal.start_task_soon(call.invoke, fn, args, kwargs)
        while not call.finished.wait(_WAIT_SLICE):
            pass
        return future.result()
    except BaseException:
        if not call.finished.is_set():
            try:
                portal.call(call.cancel)
            except RuntimeError:  # the portal has stopped: nothing left to cancel
                pass
            call.finished.wait(CANCEL_GRACE)
        raise


def start_client(
    factory: Callable[P, AsyncClient], /, *args: P.args, **kwargs: P.kwargs
) -> tuple[AsyncClient, Lease]:
    """Take a lease and build the async client inside the loop thread.

    The lease is given back if building fails (a `ConfigurationError`, say).
    """
    lease = Lease.acquire()
    try:
        client = lease.call_in_loop(factory, *args, **kwargs)
    except BaseException:
        lease.release()
        raise
    return client, lease


def _report_unclosed(description: str) -> None:
    warnings.warn(
        f"unclosed {description}: use 'with Client(...)' or call close()",
        ResourceWarning,
        stacklevel=2,
    )


class Wrapper:
    """What every generated sync class is: an async object and the runner its calls use."""

    __slots__ = ()

    _async: Any
    _runner: Runner

    def _twin(self, cls: type[W], obj: Any) -> W:
        """The async ``obj`` as an instance of its sync twin ``cls`` (same runner)."""
        return cls._from_async(obj, self._runner)

    def _twins(self, cls: type[W], async_cls: type[Any], results: list[Any]) -> list[Any]:
        """``results`` with each ``async_cls`` instance as its twin ``cls``, the rest as is."""
        return [self._twin(cls, r) if isinstance(r, async_cls) else r for r in results]

    def __repr__(self) -> str:
        return repr(self._async)


class Twin(Wrapper):
    """A generated sync class but the `Client`: also made around an existing async object."""

    __slots__ = ("_async", "_runner")

    @classmethod
    def _from_async(cls: type[W], obj: Any, runner: Runner) -> W:
        """Wrap the async ``obj``; its calls run with ``runner``."""
        twin = cls.__new__(cls)
        twin._async = obj
        twin._runner = runner
        return twin


class Same:
    """Equality and hash by the wrapped async object (the twins of immutable values)."""

    __slots__ = ()

    _async: Any

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return bool(self._async == other._async)

    def __hash__(self) -> int:
        return hash(self._async)


class ClientLifecycle(Wrapper):
    """``with``, `close` and `is_closed` of the sync `Client` (the rest is generated)."""

    __slots__ = ("__weakref__", "_finalizer")

    _async: AsyncClient
    _runner: Lease
    _finalizer: weakref.finalize[..., Any]

    def _watch(self) -> None:
        """Report a client that is garbage collected unclosed (a ``ResourceWarning``, no I/O)."""
        finalizer = weakref.finalize(self, _report_unclosed, "filestack_async.sync.Client")
        finalizer.atexit = False
        self._finalizer = finalizer

    def close(self) -> None:
        """Close the connection pool and give back the loop-thread lease (idempotent).

        In a forked child, a client from the parent is only marked closed.

        Example:
            >>> client = Client("APIKEY")
            >>> client.close()
        """
        lease = self._runner
        if lease.released:
            return
        if in_loop_thread():
            raise _loop_thread_error("close a sync Client")
        self._finalizer.detach()
        try:
            if os.getpid() == lease.pid:
                lease.run(self._async.aclose)
        finally:
            lease.release()

    @property
    def is_closed(self) -> bool:
        """True once `close` has run."""
        return self._runner.released or self._async.is_closed

    def __enter__(self: C) -> C:
        self._runner._check()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
