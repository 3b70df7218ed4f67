"""Pure planning: how a file is cut into parts, and how intelligent-ingestion chunks adapt.

No I/O here, so the rules can be checked exhaustively (see the property tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import ConfigurationError

MiB = 1024 * 1024
#: The smallest part S3 multipart accepts (every part but the last).
MIN_PART_SIZE = 5 * MiB
#: The largest part S3 multipart accepts.
MAX_PART_SIZE = 5 * 1024 * MiB
#: S3's limit on parts per upload.
MAX_PARTS = 10_000


@dataclass(frozen=True)
class Part:
    """One part of a file: 1-based ``number``, byte ``offset`` in the file and ``size``."""

    number: int
    offset: int
    size: int

    @property
    def end(self) -> int:
        """The offset just past the part's last byte."""
        return self.offset + self.size


def part_size_for(total: int, configured: int) -> int:
    """The part size to use for a file of ``total`` bytes.

    ``configured`` (never below 5 MiB), grown to a whole number of MiB when the file
    would otherwise need more than 10,000 parts.

    >>> part_size_for(100 * MiB, 8 * MiB) == 8 * MiB
    True
    >>> part_size_for(100_000 * MiB, 8 * MiB) == 10 * MiB
    True
    """
    if total < 0:
        raise ConfigurationError("a file size cannot be negative")
    size = max(configured, MIN_PART_SIZE)
    if -(-total // size) > MAX_PARTS:
        needed = -(-total // MAX_PARTS)
        size = -(-needed // MiB) * MiB
    if size > MAX_PART_SIZE:
        raise ConfigurationError(
            f"a file of {total} bytes is larger than multipart uploads allow "
            f"({MAX_PARTS} parts of at most 5 GiB)"
        )
    return size


def plan_parts(total: int, part_size: int) -> list[Part]:
    """Cut ``total`` bytes into parts of ``part_size`` (the last one may be shorter).

    >>> [(p.number, p.offset, p.size) for p in plan_parts(12, 5)]
    [(1, 0, 5), (2, 5, 5), (3, 10, 2)]
    """
    if part_size <= 0:
        raise ConfigurationError("part_size must be positive")
    return [
        Part(number=index + 1, offset=offset, size=min(part_size, total - offset))
        for index, offset in enumerate(range(0, total, part_size))
    ]


class ChunkSizer:
    """Adaptive chunk size for one intelligent-ingestion upload (never shared between uploads).

    * Starts at ``initial``.
    * A failed chunk of ``n`` bytes brings the size down to ``max(floor, ceil(n / 2))``
      (so two parts failing on the same size halve it once, not twice). A chunk that
      failed at ``floor`` bytes or less cannot shrink: `after_failure` returns ``None``.
    * After ``grow_after`` successful chunks in a row, the size doubles, up to ``initial``.

    >>> s = ChunkSizer(8 * MiB, 32 * 1024)
    >>> s.after_failure(8 * MiB) == 4 * MiB
    True
    >>> for _ in range(4):
    ...     s.after_success()
    >>> s.size == 8 * MiB
    True
    """

    def __init__(self, initial: int, floor: int, *, grow_after: int = 4) -> None:
        if not 0 < floor <= initial:
            raise ConfigurationError("need 0 < min_chunk_size <= intelligent_chunk_size")
        if grow_after < 1:
            raise ConfigurationError("grow_after must be at least 1")
        self.initial = initial
        self.floor = floor
        self.grow_after = grow_after
        self.size = initial
        self._streak = 0

    def next_chunk(self, remaining: int) -> int:
        """Bytes to send next when ``remaining`` bytes of a part are left."""
        return min(self.size, remaining)

    def after_failure(self, failed_size: int) -> int | None:
        """Record a failed chunk; return the size to retry with, or ``None`` at the floor."""
        self._streak = 0
        if failed_size <= self.floor:
            return None
        self.size = min(self.size, max(self.floor, -(-failed_size // 2)))
        return self.size

    def after_success(self) -> None:
        """Record a chunk that went through; grow after a run of successes."""
        self._streak += 1
        if self._streak >= self.grow_after and self.size < self.initial:
            self.size = min(self.initial, self.size * 2)
            self._streak = 0
