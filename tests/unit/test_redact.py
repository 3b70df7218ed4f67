"""Credentials never reach messages."""

from __future__ import annotations

from filestack_async._redact import redact_text, redact_url


def test_query_credentials_are_masked() -> None:
    url = "https://www.filestackapi.com/api/file/H?key=APIKEY&policy=P0L&signature=S1G&x=1"
    out = redact_url(url)
    for secret in ("APIKEY", "P0L", "S1G"):
        assert secret not in out
    assert "x=1" in out


def test_security_segment_is_masked() -> None:
    out = redact_url("https://cdn.filestackcontent.com/resize=w:1/security=p:AAA,s:BBB/HANDLE")
    assert "AAA" not in out and "BBB" not in out
    assert out.endswith("/security=***/HANDLE")


def test_presigned_storage_urls_are_masked() -> None:
    url = "https://s3.amazonaws.com/b/k?X-Amz-Signature=abc&X-Amz-Credential=def&partNumber=1"
    out = redact_url(url)
    assert "abc" not in out and "def" not in out and "partNumber=1" in out


def test_known_secret_values_are_masked_anywhere() -> None:
    text = "failed for https://cdn.filestackcontent.com/MYAPIKEY123/resize=w:1/https://x"
    assert "MYAPIKEY123" not in redact_text(text, ["MYAPIKEY123"])
    assert redact_text("short ab", ["ab"]) == "short ab"  # too short to mask safely


def test_json_fields_are_masked() -> None:
    body = '{"apikey": "K1", "policy": "P1", "signature": "S1", "handle": "H"}'
    out = redact_text(body)
    assert "K1" not in out and "P1" not in out and "S1" not in out and '"handle": "H"' in out


def test_strip_credentials_drops_every_filestack_credential() -> None:
    from filestack_async._redact import strip_credentials

    url = (
        "https://other.example/resize=w:10/security=p:eyJ9,s:abcd/HANDLE"
        "?policy=P&signature=S&key=K&apikey=A&Signature=S2&dl=true"
    )
    assert strip_credentials(url) == "https://other.example/resize=w:10/HANDLE?dl=true"
    assert strip_credentials("https://x.example/H#frag") == "https://x.example/H"


def test_redact_value_masks_inside_bytes_tuples_lists_and_dicts() -> None:
    from filestack_async._redact import redact_value

    headers = [(b"Authorization", b"Bearer TOPSECRET"), (b"Location", b"/x?signature=abc")]
    assert redact_value(headers, ["TOPSECRET"]) == [
        (b"Authorization", b"Bearer ***"),
        (b"Location", b"/x?signature=***"),
    ]
    assert redact_value({"k": ("TOPSECRET", 3)}, ["TOPSECRET"]) == {"k": ("***", 3)}
    assert redact_value(b"\xff\x00TOPSECRET", ["TOPSECRET"]) == b"\xff\x00***"
    marker = object()
    assert redact_value(marker, ["TOPSECRET"]) is marker
