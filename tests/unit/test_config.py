"""Endpoint resolution, the location_url rule and config validation."""

from __future__ import annotations

from typing import Any

import pytest

from filestack_async import ConfigurationError, Endpoints, Timeouts, UploadConfig


def test_real_hosts_by_default() -> None:
    e = Endpoints.resolve(environ={})
    assert (e.api, e.cdn, e.upload) == (
        "https://www.filestackapi.com/api",
        "https://cdn.filestackcontent.com",
        "https://upload.filestackapi.com",
    )


def test_single_origin_from_argument_and_environment() -> None:
    e = Endpoints.resolve(base_url="http://127.0.0.1:8700/", environ={})
    assert (e.api, e.cdn, e.upload) == (
        "http://127.0.0.1:8700/api",
        "http://127.0.0.1:8700",
        "http://127.0.0.1:8700",
    )
    env = Endpoints.resolve(environ={"FILESTACK_BASE_URL": "http://localhost:9000"})
    assert env.cdn == "http://localhost:9000"
    explicit = Endpoints.resolve(
        base_url="http://a:1", environ={"FILESTACK_BASE_URL": "http://b:2"}
    )
    assert explicit.cdn == "http://a:1"


def test_cname_moves_cdn_and_upload_but_not_the_file_api() -> None:
    e = Endpoints.resolve(cname="example.com", environ={})
    assert (e.api, e.cdn, e.upload) == (
        "https://www.filestackapi.com/api",
        "https://cdn.example.com",
        "https://upload.example.com",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "ftp://x"}, "http"),
        ({"base_url": "127.0.0.1:8700"}, "http"),
        ({"base_url": "http://x/?a=b"}, "query"),
        ({"cname": "https://example.com"}, "bare domain"),
        ({"cname": ""}, "bare domain"),
        ({"base_url": "http://x", "cname": "y.com"}, "not both"),
    ],
)
def test_bad_endpoints(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Endpoints.resolve(environ={}, **kwargs)


@pytest.mark.parametrize(
    ("upload", "location", "expected"),
    [
        ("https://upload.filestackapi.com", "fs-uploads.com", "https://fs-uploads.com"),
        (
            "https://upload.filestackapi.com",
            "upload-eu-west-1.filestackapi.com/",
            "https://upload-eu-west-1.filestackapi.com",
        ),
        ("http://127.0.0.1:8700", "127.0.0.1:8700", "http://127.0.0.1:8700"),
        ("https://upload.filestackapi.com", "http://other:81", "http://other:81"),
        ("http://127.0.0.1:1", "https://secure.example", "https://secure.example"),
    ],
)
def test_location_url_rule(upload: str, location: str, expected: str) -> None:
    assert Endpoints(upload=upload).location_url(location) == expected


def test_location_url_must_not_be_empty() -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        Endpoints().location_url("  ")


def test_timeouts_defaults() -> None:
    assert Timeouts() == Timeouts(connect=10, read=60, write=60, pool=30)
    assert (Timeouts().total, Timeouts().min_rate) == (120, 16 * 1024)
    assert Timeouts().max_answer_bytes == 4 * 1024 * 1024
    assert Timeouts(total=None).total is None  # no total deadline


def test_one_number_of_seconds_never_makes_the_total_shorter() -> None:
    from filestack_async import Client

    assert Client("K", timeout=30).context.timeouts.total == 120
    assert Client("K", timeout=600).context.timeouts.total == 600


@pytest.mark.parametrize(
    "kwargs",
    [
        {"part_size": 5 * 1024 * 1024 - 1},
        {"part_size": 6 * 1024**3},
        {"concurrency": 0},
        {"max_parts_in_flight": 0},
        {"min_chunk_size": 0},
        {"min_chunk_size": 16 * 1024 * 1024},
        {"complete_budget": -1},
        {"integrity_check": 1},
    ],
)
def test_upload_config_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        UploadConfig(**kwargs)
