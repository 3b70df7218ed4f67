"""The bounded decoder of API answers: gzip and deflate undone, never past the cap."""

from __future__ import annotations

import gzip
import zlib

import pytest

from filestack_async._http import BoundedDecoder, OverCap


def _feed(decoder: BoundedDecoder, data: bytes, piece: int = 1000) -> bytes:
    for i in range(0, len(data), piece):
        decoder.decode(data[i : i + piece])
    decoder.flush()
    return bytes(decoder.output)


@pytest.mark.parametrize("coding", ["", "identity", "gzip", "x-gzip", "deflate", "GZIP"])
def test_an_answer_of_exactly_the_cap_is_decoded(coding: str) -> None:
    body = bytes(range(256)) * 40  # 10240 bytes
    if coding.lower() in ("gzip", "x-gzip"):
        wire = gzip.compress(body)
    elif coding == "deflate":
        wire = zlib.compress(body)
    else:
        wire = body
    assert _feed(BoundedDecoder(coding, len(body)), wire) == body
    with pytest.raises(OverCap):
        _feed(BoundedDecoder(coding, len(body) - 1), wire)


def test_raw_deflate_is_accepted_too() -> None:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    wire = packer.compress(b'{"a": 1}') + packer.flush()
    assert _feed(BoundedDecoder("deflate", 1024), wire, piece=3) == b'{"a": 1}'


def test_a_bomb_stops_at_the_cap_and_keeps_only_that_much() -> None:
    bomb = gzip.compress(b"0" * (32 * 1024 * 1024))
    decoder = BoundedDecoder("gzip", 4096)
    with pytest.raises(OverCap):
        decoder.decode(bomb)
    assert bytes(decoder.output) == b"0" * 4096


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, gzip", "compress"])
def test_other_codings_are_refused(coding: str) -> None:
    with pytest.raises(ValueError, match="unsupported Content-Encoding"):
        BoundedDecoder(coding, 1024)


def test_a_broken_body_raises_zlib_error() -> None:
    with pytest.raises(zlib.error):
        _feed(BoundedDecoder("gzip", 1024), b"not gzip")
