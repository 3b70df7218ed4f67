"""What one upload has achieved so far: created by the engine, updated by the flows."""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import UploadError


@dataclass
class UploadState:
    """What an upload has achieved so far (copied onto its error if it fails)."""

    parts_total: int
    upload_id: str | None = None
    parts_done: int = 0
    bytes_sent: int = 0
    failed_part: int | None = None

    def part_done(self) -> None:
        """Count one more part as finished."""
        self.parts_done += 1

    def add_bytes(self, nbytes: int) -> None:
        """Count ``nbytes`` more as acknowledged by the service."""
        self.bytes_sent += nbytes

    def error(self, message: str) -> UploadError:
        """An `UploadError` carrying this state."""
        return UploadError(
            message,
            upload_id=self.upload_id,
            parts_done=self.parts_done,
            parts_total=self.parts_total,
            bytes_sent=self.bytes_sent,
        )
