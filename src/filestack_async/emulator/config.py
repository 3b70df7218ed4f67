"""The emulator's settings: where files live, security, strict mode and faults."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

MiB = 1024 * 1024

# -- storage: unfinished uploads ---------------------------------------------------------
#: seconds an unfinished upload is kept after its start (24 h); then it is swept
DEFAULT_UPLOAD_EXPIRY = 24 * 3600.0

#: the key webhooks are signed with when neither a webhook secret nor an app secret is set
DEFAULT_WEBHOOK_SECRET = "EMULATOR-WEBHOOK-SECRET"

#: Routes a fault can target (``"*"`` targets every one of them).
ROUTES: tuple[str, ...] = (
    "start",
    "upload",
    "put",
    "commit",
    "complete",
    "cdn",
    "metadata",
    "process",
    "file",
    "processing",
    "store",
)


class FaultConfigError(ValueError):
    """A fault or network setting is not valid."""


@dataclass(frozen=True)
class RouteFault:
    """Misbehaviour injected on one route.

    Each matching request gets at most one of: a connection reset (``reset_rate``),
    an error status (``error_rate``, with ``Retry-After`` on ``retry_after_rate`` of
    those), a delay of ``delay`` seconds before the answer (``delay_rate``). Each rate
    is the exact share of requests that gets that fault, so the three rates together
    must not exceed 1.

    Example:
        >>> RouteFault("put", error_rate=0.1, status=503, retry_after=1, retry_after_rate=0.5)
        RouteFault(route='put', error_rate=0.1, status=503, ...)
    """

    route: str = "*"
    error_rate: float = 0.0
    status: int = 503
    retry_after: float | None = None
    retry_after_rate: float = 1.0
    reset_rate: float = 0.0
    delay_rate: float = 0.0
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.route != "*" and self.route not in ROUTES:
            raise FaultConfigError(f"unknown route {self.route!r}; known: *, {', '.join(ROUTES)}")
        for name in ("error_rate", "retry_after_rate", "reset_rate", "delay_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FaultConfigError(f"{name} must be between 0 and 1")
        if self.reset_rate + self.error_rate + self.delay_rate > 1.0 + 1e-9:
            raise FaultConfigError("reset_rate + error_rate + delay_rate must not exceed 1")
        if not 400 <= self.status <= 599:
            raise FaultConfigError("status must be an HTTP error status (400-599)")
        if self.delay < 0 or (self.retry_after is not None and self.retry_after < 0):
            raise FaultConfigError("delay and retry_after must not be negative")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != f.default or f.name == "route"
        )
        return f"RouteFault({shown}, ...)"


@dataclass(frozen=True)
class NetworkProfile:
    """A slower network: ``latency`` seconds added to every request and a bandwidth
    cap in bytes per second for each request body and response body.

    ``NetworkProfile.wan()`` is 40 ms and 16 MiB/s.
    """

    latency: float = 0.0
    bandwidth: float | None = None

    def __post_init__(self) -> None:
        if self.latency < 0 or (self.bandwidth is not None and self.bandwidth <= 0):
            raise FaultConfigError("latency must be >= 0 and bandwidth > 0")

    @classmethod
    def wan(cls) -> NetworkProfile:
        """40 ms per request and 16 MiB/s per connection."""
        return cls(latency=0.040, bandwidth=16 * MiB)


#: the S3 codes the max-chunk fault can answer with (400 each)
CHUNK_S3_CODES: tuple[str, ...] = ("RequestTimeout", "IncompleteBody")


@dataclass(frozen=True)
class DownloadCut:
    """Downloads cut off mid-body: a share ``rate`` of the file answers of the CDN (and
    of the File API's download) stop after ``offset`` bytes of their body, as a
    dropped connection would stop them (the client sees a body shorter than its
    ``Content-Length``).

    With ``max_offset`` each cut falls at an offset drawn (seeded) between ``offset``
    and ``max_offset``. Answers whose body is not longer than the offset are whole.

    Example:
        >>> DownloadCut(rate=0.5, offset=64 * 1024, max_offset=1024 * 1024)
        DownloadCut(rate=0.5, offset=65536, max_offset=1048576)
    """

    rate: float = 0.0
    offset: int = 0
    max_offset: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise FaultConfigError("download cut rate must be between 0 and 1")
        if not isinstance(self.offset, int) or isinstance(self.offset, bool) or self.offset < 0:
            raise FaultConfigError("download cut offset must be a non-negative int")
        if self.max_offset is not None and (
            not isinstance(self.max_offset, int) or self.max_offset < self.offset
        ):
            raise FaultConfigError("download cut max_offset must be an int >= offset")


@dataclass(frozen=True)
class Faults:
    """Everything the emulator can do wrong on purpose. Seeded, so runs repeat.

    Attributes:
        seed: a request's decision depends only on the seed, the route, the stable
            facts of the request (part number, offset, size) and how many times such
            a request was seen, never on random ids or handles, so a run repeats.
        rules: per-route faults.
        max_chunk_size: part/chunk PUTs larger than this fail, to exercise
            intelligent ingestion's chunk halving: the connection is reset (as a
            struggling link would drop it), or, with ``chunk_status``, that status
            is answered, or, with ``chunk_s3_code``, S3's answer.
        chunk_s3_code: ``"RequestTimeout"`` or ``"IncompleteBody"``: a PUT over
            ``max_chunk_size`` is answered the way S3 answers a body a slow link could
            not deliver in time (or cut short): 400 with an XML ``Error`` body whose
            ``Code`` is this.
        complete_202: ``/multipart/complete`` answers 202 this many times per upload
            before it succeeds.
        network: latency and bandwidth added to everything.
        download_cut: downloads cut off mid-body (see `DownloadCut`).
    """

    seed: int = 0
    rules: tuple[RouteFault, ...] = ()
    max_chunk_size: int | None = None
    chunk_status: int | None = None
    chunk_s3_code: str | None = None
    complete_202: int = 0
    network: NetworkProfile | None = None
    download_cut: DownloadCut | None = None

    def __post_init__(self) -> None:
        if self.max_chunk_size is not None and self.max_chunk_size < 1:
            raise FaultConfigError("max_chunk_size must be positive")
        if self.complete_202 < 0:
            raise FaultConfigError("complete_202 must not be negative")
        if self.chunk_s3_code is not None and self.chunk_s3_code not in CHUNK_S3_CODES:
            raise FaultConfigError(
                f"chunk_s3_code must be one of {', '.join(CHUNK_S3_CODES)}, "
                f"not {self.chunk_s3_code!r:.40}"
            )
        if self.chunk_s3_code is not None and self.chunk_status is not None:
            raise FaultConfigError("give chunk_status or chunk_s3_code, not both")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (what ``GET /_emulator/faults`` returns)."""
        return {
            "seed": self.seed,
            "rules": [{f.name: getattr(r, f.name) for f in fields(r)} for r in self.rules],
            "max_chunk_size": self.max_chunk_size,
            "chunk_status": self.chunk_status,
            "chunk_s3_code": self.chunk_s3_code,
            "complete_202": self.complete_202,
            "network": (
                None
                if self.network is None
                else {"latency": self.network.latency, "bandwidth": self.network.bandwidth}
            ),
            "download_cut": (
                None if self.download_cut is None else dataclasses.asdict(self.download_cut)
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """Build from the JSON ``POST /_emulator/faults`` takes (the shape of `to_json`)."""
        if not isinstance(data, Mapping):
            raise FaultConfigError("faults must be a JSON object")
        known = {
            "seed",
            "rules",
            "max_chunk_size",
            "chunk_status",
            "chunk_s3_code",
            "complete_202",
            "network",
            "download_cut",
        }
        unknown = set(data) - known
        if unknown:
            raise FaultConfigError(f"unknown fault settings: {sorted(unknown)}")
        try:
            rules = tuple(RouteFault(**rule) for rule in data.get("rules") or ())
            network_data = data.get("network")
            network = NetworkProfile(**network_data) if network_data else None
            cut_data = data.get("download_cut")
            cut = DownloadCut(**cut_data) if cut_data else None
            return cls(
                seed=int(data.get("seed", 0)),
                rules=rules,
                max_chunk_size=data.get("max_chunk_size"),
                chunk_status=data.get("chunk_status"),
                chunk_s3_code=data.get("chunk_s3_code"),
                complete_202=int(data.get("complete_202", 0)),
                network=network,
                download_cut=cut,
            )
        except TypeError as err:
            raise FaultConfigError(f"bad fault settings: {err}") from None


@dataclass(frozen=True)
class EmulatorConfig:
    """How an emulator behaves.

    Attributes:
        data_dir: where files and the SQLite database live; ``None`` means a temporary
            folder removed when the emulator is closed.
        secret: the app secret; when set, policies and signatures are checked where
            Filestack checks them.
        apikeys: accepted API keys; empty means any non-empty key.
        strict: reject every protocol deviation with a 400 naming it.
        faults: injected faults (see `Faults`).
        max_image_pixels: images larger than this are refused (decompression bombs).
        upload_expiry: seconds an unfinished upload (started, never completed) is
            kept; then its parts and session are removed, as an S3 lifecycle rule
            aborts incomplete multipart uploads (default 24 h; ``math.inf``: never).
        journal_size: requests the request journal keeps (the oldest go first).
        journal_file: also append each journal entry to this file as a JSON line.
        webhooks: URLs that receive the service's webhooks (loopback only unless
            ``webhook_allow_remote``).
        webhook_secret: the key webhooks are signed with (default: the app secret,
            else `DEFAULT_WEBHOOK_SECRET`).
        webhook_retry_scale: the service's retry delays (5 min, 30 min, 12 h) are
            multiplied by this (``0.001``: 0.3 s, 1.8 s, 43.2 s).
        webhook_timeout: seconds one delivery may take before it counts as failed.
        webhook_allow_remote: allow webhook URLs beyond loopback.
        seed: a folder of files, or a JSON manifest, stored at start (see ``seed.py``).
        dashboard: serve the dashboard at ``/_emulator/dashboard``.
    """

    data_dir: Path | None = None
    secret: str | None = None
    apikeys: frozenset[str] = field(default_factory=frozenset)
    strict: bool = False
    faults: Faults = field(default_factory=Faults)
    max_image_pixels: int = 50_000_000
    # -- storage: unfinished uploads (see DEFAULT_UPLOAD_EXPIRY) --
    upload_expiry: float = DEFAULT_UPLOAD_EXPIRY
    # -- for app teams: journal, webhooks, seed data, dashboard --
    journal_size: int = 2000
    journal_file: Path | None = None
    webhooks: tuple[str, ...] = ()
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_retry_scale: float = 1.0
    webhook_timeout: float = 10.0
    webhook_allow_remote: bool = False
    seed: Path | None = None
    dashboard: bool = True
