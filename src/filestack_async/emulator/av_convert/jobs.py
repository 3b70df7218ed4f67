"""The conversion jobs of each emulator: their state, worker threads and records.

A job goes ``pending`` (queued) → ``started`` → ``completed`` (the converted file
stored) or ``failed``. Jobs run in their own threads, never on the event loop; at
most `MAX_PARALLEL` convert at once. Finished jobs are written to
``<data dir>/av/<uuid>.json``, so a restarted emulator on the same folder still
answers them.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from ..storage import Storage, StoredFile, new_handle
from .presets import DEFAULT_PRESET, PRESETS, Preset
from .transcode import ConversionFailed, transcode

if TYPE_CHECKING:
    from ..app import Emulator

__all__ = ["MAX_PARALLEL", "Conversions", "Job", "conversions", "stop_conversions"]

#: Conversions running at the same time per emulator; the others wait as ``pending``.
MAX_PARALLEL = 2


class _Aborted(Exception):
    """The emulator is shutting down its conversions."""


@dataclass
class Job:
    """One conversion and its status."""

    uuid: str
    timestamp: str
    preset: Preset
    params: dict[str, Any]
    origin: str
    filename: str
    status: str = "pending"
    data: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    #: a failure has been answered once (``force:true`` then restarts the job)
    reported: bool = False

    def payload(self) -> dict[str, Any]:
        """The status JSON, in the service's shape."""
        return {
            "uuid": self.uuid,
            "timestamp": self.timestamp,
            "status": self.status,
            "data": dict(self.data),
            "metadata": {"result": dict(self.result), "source": dict(self.source)},
        }


class Conversions:
    """An emulator's conversion jobs (see `conversions`).

    `hold` keeps new jobs ``pending`` until `release` (for tests of polling); `join`
    waits for the running jobs; `shutdown` stops them.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._slots = threading.Semaphore(MAX_PARALLEL)
        self._gate = threading.Event()
        self._gate.set()
        self._closing = threading.Event()

    @property
    def records(self) -> Path:
        """Where finished jobs are written: ``<data dir>/av``."""
        return self.storage.root / "av"

    def hold(self) -> None:
        """Keep jobs that have not started yet ``pending`` until `release`."""
        self._gate.clear()

    def release(self) -> None:
        """Let held jobs start."""
        self._gate.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every job thread to end; True if none is left running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = [t for t in self._threads.values() if t.is_alive()]
            if not threads:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            threads[0].join(remaining)

    def shutdown(self, timeout: float | None = 10.0) -> bool:
        """Stop every job (they fail with "the emulator shut down") and wait for them."""
        self._closing.set()
        self._gate.set()
        return self.join(timeout)

    def get(self, uuid: str) -> Job | None:
        """A job by uuid: running ones from memory, finished ones from their record."""
        with self._lock:
            job = self._jobs.get(uuid)
        if job is not None:
            return job
        return self._load(uuid)

    def status(self, uuid: str, *, force: bool = False) -> dict[str, Any] | None:
        """The status JSON of a job, read under the lock (``None`` if unknown).

        With ``force``, a failed job whose failure was answered already counts as
        unknown, so it is started again.
        """
        job = self.get(uuid)
        if job is None:
            return None
        with self._lock:
            if job.status == "failed":
                if force and job.reported:
                    return None
                job.reported = True
            return job.payload()

    def start(self, job: Job, source: Path) -> tuple[Job, bool]:
        """Start ``job`` on the temporary file ``source`` (the job then owns it).

        If a job with the same uuid is known already, that one is returned and
        ``False``; the caller keeps ``source``.
        """
        with self._lock:
            known = self._jobs.get(job.uuid)
            if known is not None and not (known.status == "failed" and known.reported):
                return known, False
            self._jobs[job.uuid] = job
            thread = threading.Thread(
                target=self._run,
                args=(job, source),
                name=f"filestack-emulator-av-{job.uuid[:8]}",
                daemon=True,
            )
            self._threads[job.uuid] = thread
        thread.start()
        return job, True

    # -- the worker ----------------------------------------------------------------------

    def _run(self, job: Job, source: Path) -> None:
        output = self.storage.incoming_path()
        try:
            self._gate.wait()
            with self._slots:
                self._check()
                with self._lock:
                    job.status = "started"
                    job.started = time.monotonic()
                    job.result = {"encoding_progress": 0}
                info = transcode(
                    source,
                    output,
                    job.preset,
                    job.params,
                    on_source=lambda facts: self._set_source(job, facts),
                    on_progress=lambda fraction: self.progress(job, fraction),
                )
                file = self._store(job, output, info)
                self._finish(job, "completed", info, file)
        except (ConversionFailed, _Aborted) as err:
            self._fail(job, str(err))
        except Exception as err:  # any decoder error fails the job, with its text
            self._fail(job, f"conversion error: {type(err).__name__}: {err}")
        finally:
            source.unlink(missing_ok=True)
            output.unlink(missing_ok=True)

    def _check(self) -> None:
        if self._closing.is_set():
            raise _Aborted("the emulator shut down before the conversion finished")

    def _set_source(self, job: Job, facts: dict[str, Any]) -> None:
        with self._lock:
            job.source = facts

    def progress(self, job: Job, fraction: float) -> None:
        """Record progress (0..1); stops the job if the emulator is shutting down."""
        self._check()
        with self._lock:
            job.result["encoding_progress"] = min(99, int(fraction * 100))

    def _store(self, job: Job, output: Path, info: dict[str, Any]) -> StoredFile:
        params = job.params
        md5 = hashlib.md5()
        with output.open("rb") as f:
            for block in iter(lambda: f.read(1024 * 1024), b""):
                md5.update(block)
        handle = new_handle()
        size = output.stat().st_size
        digest = md5.hexdigest()
        file = StoredFile(
            handle=handle,
            filename=job.filename,
            mimetype=job.preset.mimetype,
            size=size,
            etag=f'"{digest}"',
            md5=digest,
            uploaded=int(time.time() * 1000),
            location=str(params.get("location") or "S3"),
            key=f"{handle}_{job.filename}",
            path=str(params["path"]) if params.get("path") else None,
            container=str(params["container"]) if params.get("container") else None,
            width=info.get("width"),
            height=info.get("height"),
        )
        self._check()
        return self.storage.store_blob(output, file, event="converse")

    def _finish(self, job: Job, status: str, info: dict[str, Any], file: StoredFile) -> None:
        preset = job.preset
        with self._lock:
            job.status = status
            job.data = {"url": f"{job.origin}/{file.handle}", "duration": info["duration"]}
            for key in ("width", "height"):
                if info.get(key) is not None:
                    job.data[key] = info[key]
            job.result = {
                **info,
                "file_size": file.size,
                "mime_type": preset.mimetype,
                "extname": f".{PurePosixPath(job.filename).suffix.lstrip('.')}",
                "encoding_progress": 100,
                "encoding_time": round(time.monotonic() - job.started, 3),
            }
            payload = job.payload()
        self._save(job.uuid, payload, file.handle)

    def _fail(self, job: Job, message: str) -> None:
        with self._lock:
            job.status = "failed"
            job.data = {"error": message}
            job.result = {"error": message}
            payload = job.payload()
        self._save(job.uuid, payload, None)

    def _save(self, uuid: str, payload: dict[str, Any], handle: str | None) -> None:
        try:
            self.records.mkdir(exist_ok=True)
            partial = self.records / f".{uuid}.partial"
            partial.write_text(json.dumps({"payload": payload, "handle": handle}))
            partial.replace(self.records / f"{uuid}.json")
        except OSError:
            pass  # the data folder is gone (the emulator closed): the job is memory only

    def _load(self, uuid: str) -> Job | None:
        try:
            record = json.loads((self.records / f"{uuid}.json").read_text())
        except (OSError, ValueError):
            return None
        handle = record.get("handle")
        if handle is not None and self.storage.get_file(handle) is None:
            return None  # the converted file was deleted: convert again
        payload = record["payload"]
        job = Job(
            uuid=payload["uuid"],
            timestamp=payload["timestamp"],
            preset=PRESETS[DEFAULT_PRESET],
            params={},
            origin="",
            filename="",
            status=payload["status"],
            data=payload["data"],
            result=payload["metadata"]["result"],
            source=payload["metadata"]["source"],
        )
        with self._lock:
            self._jobs.setdefault(uuid, job)
        return job


_REGISTRY: WeakKeyDictionary[Emulator, Conversions] = WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def stop_conversions(emulator: Emulator, timeout: float | None = 10.0) -> bool:
    """Stop ``emulator``'s running conversions and forget them (a later one starts afresh).

    Returns True when no conversion thread is left running.
    """
    with _REGISTRY_LOCK:
        found = _REGISTRY.pop(emulator, None)
    return True if found is None else found.shutdown(timeout)


def conversions(emulator: Emulator) -> Conversions:
    """The conversion jobs of ``emulator`` (created on first use)."""
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(emulator)
        if found is None:
            found = _REGISTRY[emulator] = Conversions(emulator.storage)
        return found
