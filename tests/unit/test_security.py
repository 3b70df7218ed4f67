"""Policy encoding, signatures and webhook verification against the protocol reference's vectors."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import re
from typing import Any

import pytest

from filestack_async import ConfigurationError, Security, verify_webhook_signature
from filestack_async._security import (
    SIGNED_URL_EXPIRES_IN,
    WEBHOOK_MAX_SKEW,
    decode_policy,
    encode_policy,
    sign,
    signature_matches,
)

# (policy, secret, policy_b64, signature) from filestack-protocol.md §2.3
VECTORS = [
    (
        {"expiry": 1572390000, "call": ["read"]},
        "SECRET",
        "eyJjYWxsIjogWyJyZWFkIl0sICJleHBpcnkiOiAxNTcyMzkwMDAwfQ==",
        "9f0b9c9cb04c60796b72070eba0f9c61268c4384feaf4313d2702654f5d0df08",
    ),
    (
        {"expires": 123},
        "secret",
        "eyJleHBpcmVzIjogMTIzfQ==",
        "379d2ba0d5be34eddf09f873b7f38643dc51599b0afcd564f52733b52d698748",
    ),
    (
        {"expires": 999999999999},
        "secret",
        "eyJleHBpcmVzIjogOTk5OTk5OTk5OTk5fQ==",
        "8c75305f7615776a892ddd165111dba0fa24b45107024a55a7170a7d1d60157a",
    ),
    (
        {"call": ["read"], "expiry": 10238239},
        "APPSECRET",
        "eyJjYWxsIjogWyJyZWFkIl0sICJleHBpcnkiOiAxMDIzODIzOX0=",
        "858d1ee9c0a1f06283e495f78dc7950ff6e64136ce960465f35539791fcd486b",
    ),
    (
        {"call": ["write"], "expiry": 1655992432},
        "another-secret",
        "eyJjYWxsIjogWyJ3cml0ZSJdLCAiZXhwaXJ5IjogMTY1NTk5MjQzMn0=",
        "625cc5b9beab3e939fb53935f7795919c9f57f628d43adfc14566d2ad9a4ad47",
    ),
    (
        {"expiry": 123},
        "secret",
        "eyJleHBpcnkiOiAxMjN9",
        "4de8b7441b3daf0d68b4f8ebcf7e015d07aef43a1295476a1dde1aed327abc01",
    ),
    (
        {"expiry": 1562763146, "call": ["read"]},
        "SECURITY-SECRET",
        "eyJjYWxsIjogWyJyZWFkIl0sICJleHBpcnkiOiAxNTYyNzYzMTQ2fQ==",
        "89f1325dca54cfce976163fb692bb266f28129525b8c6bb0eeadf4b7d450e2f0",
    ),
    (
        {"expiry": 253381964415, "call": ["read"]},
        "SECURITY-SECRET",
        "eyJjYWxsIjogWyJyZWFkIl0sICJleHBpcnkiOiAyNTMzODE5NjQ0MTV9",
        "f61fa1effb0638ab5b6e208d5d2fd9343f8557d8a0bf529c6d8542935f77bb3c",
    ),
    (
        {"expires": 999},
        "secret",
        "eyJleHBpcmVzIjogOTk5fQ==",
        "c0b1b4d794f867287eedb34e477805aa7f5e1c9d1ec24fc55a085608b79e65fa",
    ),
]


@pytest.mark.parametrize(("policy", "secret", "policy_b64", "signature"), VECTORS)
def test_reference_vectors(
    policy: dict[str, object], secret: str, policy_b64: str, signature: str
) -> None:
    sec = Security(policy, secret)
    assert sec.policy_b64 == policy_b64
    assert sec.signature == signature
    assert sec.as_url_string() == f"security=p:{policy_b64},s:{signature}"
    assert sec.as_params() == {"policy": policy_b64, "signature": signature}
    assert decode_policy(policy_b64) == policy
    assert signature_matches(policy_b64, signature, secret)
    assert not signature_matches(policy_b64, signature, secret + "x")


def test_compact_json_contrast_vector() -> None:
    compact = "eyJjYWxsIjpbInJlYWQiXSwiZXhwaXJ5IjoxNTcyMzkwMDAwfQ=="
    assert sign(compact, "SECRET") == (
        "b2a7f29db40686df310fd891eaa6ffecc4701294abcf0319f4981dbd599d9ed2"
    )
    assert decode_policy(compact) == {"call": ["read"], "expiry": 1572390000}


def test_encoding_sorts_keys_at_every_level_and_keeps_padding() -> None:
    assert encode_policy({"b": {"z": 1, "a": 2}, "a": 1}) == encode_policy(
        {"a": 1, "b": {"a": 2, "z": 1}}
    )
    assert encode_policy({"expires": 123}).endswith("==")


def test_secret_and_signature_never_in_repr_or_str() -> None:
    sec = Security({"expiry": 1572390000, "call": ["read"]}, "TOP-SECRET-VALUE")
    for text in (repr(sec), str(sec), repr([sec]), f"{sec}"):
        assert "TOP-SECRET-VALUE" not in text
        assert sec.signature not in text
    assert repr(sec) == "Security(policy={'expiry': 1572390000, 'call': ['read']})"


def test_policy_is_copied_in_and_out() -> None:
    policy: dict[str, object] = {"expiry": 10}
    sec = Security(policy, "s3cr3t")
    policy["expiry"] = 20
    got = sec.policy
    got["expiry"] = 30
    assert sec.policy == {"expiry": 10}


def test_equality_hash_and_pickle() -> None:
    a = Security({"expiry": 10}, "secret")
    assert a == Security({"expiry": 10}, "secret")
    assert a != Security({"expiry": 10}, "other")
    assert hash(a) == hash(Security({"expiry": 10}, "secret"))
    assert pickle.loads(pickle.dumps(a)) == a


def test_create_builds_and_validates() -> None:
    sec = Security.create(
        "secret",
        expiry=1572390000,
        call=["read", "convert"],
        handle="AbCdEfGhIjKlMnOpQrSt",
        max_size=10,
        min_size=1,
        path="/uploads/.*",
        container="bucket",
        url="https://example\\.com/.*",
    )
    assert sec.policy == {
        "expiry": 1572390000,
        "call": ["read", "convert"],
        "handle": "AbCdEfGhIjKlMnOpQrSt",
        "maxSize": 10,
        "minSize": 1,
        "path": "/uploads/.*",
        "container": "bucket",
        "url": "https://example\\.com/.*",
    }
    relative = Security.create("secret", expires_in=60)
    assert relative.expiry is not None and not relative.is_expired()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of expiry"),
        ({"expiry": 1, "expires_in": 1}, "exactly one of expiry"),
        ({"expires_in": -5}, "positive"),
        ({"expires_in": 10**400}, "at most"),  # was OverflowError (found by the fuzz campaign)
        ({"expiry": 10, "call": ["fly"]}, "unknown values"),
        ({"expiry": 10, "call": "read"}, "list"),
        ({"expiry": 10, "max_size": 1, "min_size": 2}, "min_size"),
        ({"expiry": 10, "max_size": -1}, "negative"),
    ],
)
def test_create_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Security.create("secret", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"expiry": "tomorrow"}, "'expiry' must be int"),
        ({"expiry": True}, "'expiry' must be int"),
        ({"handle": 5}, "'handle' must be str"),
        ({"maxSize": 1.5}, "'maxSize' must be int"),
        ({1: 2}, "keys must be strings"),
    ],
)
def test_policy_field_types_are_checked(policy: dict[object, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Security(policy, "secret")  # type: ignore[arg-type]


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="secret"):
        Security({"expiry": 1}, "")


def test_is_expired() -> None:
    sec = Security({"expiry": 1000}, "secret")
    assert sec.is_expired(now=1000)
    assert not sec.is_expired(now=999)
    assert sec.is_expired(now=990, leeway=10)
    assert not Security({"expires": 1}, "secret").is_expired()


def test_decode_policy_rejects_garbage() -> None:
    with pytest.raises(ConfigurationError, match="base64"):
        decode_policy("!!!not base64!!!")
    with pytest.raises(ConfigurationError, match="object"):
        decode_policy("WzFd")  # [1]


WEBHOOK_BODY = '{"text": {"filename": "filename.jpg", "key": "kGaeljnga9wkysK6Z_filename.jpg"}}'
WEBHOOK_SIGNATURE = "57cbb25386c3d6ff758a7a75cf52ba02cf2b0a1a2d6d5dfb9c886553ca6011cb"


@pytest.mark.parametrize("body", [WEBHOOK_BODY, WEBHOOK_BODY.encode()])
def test_webhook_reference_vector(body: str | bytes) -> None:
    headers = {"FS-Signature": WEBHOOK_SIGNATURE, "FS-Timestamp": "123456789999"}
    assert verify_webhook_signature("webhook-secret", body, headers) is True
    lower = {"fs-signature": WEBHOOK_SIGNATURE, "fs-timestamp": "123456789999"}
    assert verify_webhook_signature("webhook-secret", body, lower) is True


def test_webhook_mismatch_and_tampering() -> None:
    headers = {"FS-Signature": WEBHOOK_SIGNATURE, "FS-Timestamp": "123456789999"}
    assert verify_webhook_signature("other-secret", WEBHOOK_BODY, headers) is False
    assert verify_webhook_signature("webhook-secret", WEBHOOK_BODY + " ", headers) is False
    changed = {**headers, "FS-Timestamp": "123456789998"}
    assert verify_webhook_signature("webhook-secret", WEBHOOK_BODY, changed) is False


def test_webhook_max_age() -> None:
    headers = {"FS-Signature": WEBHOOK_SIGNATURE, "FS-Timestamp": "123456789999"}
    assert verify_webhook_signature(
        "webhook-secret", WEBHOOK_BODY, headers, max_age=60, now=123456789999 + 30
    )
    assert not verify_webhook_signature(
        "webhook-secret", WEBHOOK_BODY, headers, max_age=60, now=123456789999 + 61
    )


@pytest.mark.parametrize(
    ("secret", "body", "headers", "message"),
    [
        (None, "b", {"FS-Signature": "x", "FS-Timestamp": "1"}, "secret"),
        ("s", 5, {"FS-Signature": "x", "FS-Timestamp": "1"}, "body must be str or bytes"),
        ("s", "b", [("FS-Signature", "x")], "headers must be a mapping"),
        ("s", "b", {"FS-Timestamp": "1"}, "FS-Signature header is missing"),
        ("s", "b", {"FS-Signature": "x"}, "FS-Timestamp header is missing"),
        ("s", b"\xff\xfe", {"FS-Signature": "x", "FS-Timestamp": "1"}, "UTF-8"),
    ],
)
def test_webhook_bad_arguments_raise(
    secret: object, body: object, headers: object, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        verify_webhook_signature(secret, body, headers)  # type: ignore[arg-type]


def _signed_webhook(secret: str, body: str, timestamp: str) -> dict[str, str]:
    """Headers of a webhook signed the way Filestack signs one (the reference's algorithm)."""
    message = f"{timestamp}.{body}".encode("utf-8", "surrogatepass")
    digest = hmac.new(secret.encode("utf-8", "surrogatepass"), message, hashlib.sha256)
    return {"FS-Signature": digest.hexdigest(), "FS-Timestamp": timestamp}


@pytest.mark.parametrize(
    ("secret", "body", "timestamp", "message"),
    [
        ("s\ud800", "{}", "1700000000", "webhook secret is not valid Unicode"),
        ("s", "{\udcff}", "1700000000", "webhook body is not valid Unicode"),
        ("s", "{}", "1700000000\udc80", "FS-Timestamp header is not valid Unicode"),
    ],
)
def test_webhook_lone_surrogates_are_a_configuration_error(
    secret: str, body: str, timestamp: str, message: str
) -> None:
    headers = _signed_webhook(secret, body, timestamp)
    with pytest.raises(ConfigurationError, match=message):
        verify_webhook_signature(secret, body, headers)


def test_webhook_signature_header_with_a_surrogate_is_a_configuration_error() -> None:
    headers = {"FS-Signature": "ab\udc80", "FS-Timestamp": "1700000000"}
    with pytest.raises(ConfigurationError, match="FS-Signature header is not valid Unicode"):
        verify_webhook_signature("s", "{}", headers)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (-299, True), (-300, True), (-301, False), (-86400, False), (59, True)],
)
def test_webhook_future_timestamps_beyond_the_skew_are_refused(offset: int, accepted: bool) -> None:
    now = 1_700_000_000
    headers = _signed_webhook("whsec", "{}", str(now - offset))  # offset < 0: in the future
    assert verify_webhook_signature("whsec", "{}", headers, max_age=60, now=now) is accepted


def test_webhook_skew_is_a_parameter() -> None:
    now = 1_700_000_000
    headers = _signed_webhook("whsec", "{}", str(now + 10))
    assert verify_webhook_signature("whsec", "{}", headers, max_age=60, now=now)
    assert not verify_webhook_signature("whsec", "{}", headers, max_age=60, max_skew=5, now=now)
    assert not verify_webhook_signature("whsec", "{}", headers, max_age=60, max_skew=0, now=now)
    assert WEBHOOK_MAX_SKEW == 300


@pytest.mark.parametrize("timestamp", ["Infinity", "inf", "-inf", "NaN", "nan", "1e400"])
def test_webhook_non_finite_timestamps_are_refused_under_max_age(timestamp: str) -> None:
    headers = _signed_webhook("whsec", "{}", timestamp)
    assert not verify_webhook_signature("whsec", "{}", headers, max_age=3600, now=1_700_000_000)


@pytest.mark.parametrize("skew", [-1, float("nan"), float("inf"), "300", None, True])
def test_webhook_max_skew_is_validated(skew: object) -> None:
    headers = _signed_webhook("whsec", "{}", "1700000000")
    with pytest.raises(ConfigurationError, match="max_skew must be a finite number"):
        verify_webhook_signature("whsec", "{}", headers, max_age=60, max_skew=skew)  # type: ignore[arg-type]


# -- narrowed policies (what signed_url() signs) and ready-made ones ------------------------

NOW = 1_700_000_000
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
OTHER = "ZyXwVuTsRqPoNmLkJiHg"


def test_narrowed_grants_only_the_call_on_the_handle_for_the_lifetime() -> None:
    app = Security.create("SECRET", expiry=NOW + 10 * 86400)  # every call, for ten days
    narrow = app.narrowed(["read"], handle=HANDLE, now=NOW)
    assert narrow.policy == {"call": ["read"], "handle": HANDLE, "expiry": NOW + 3600}
    assert SIGNED_URL_EXPIRES_IN == 3600
    assert signature_matches(narrow.policy_b64, narrow.signature, "SECRET")
    assert narrow.has_secret and narrow.secrets()[0] == "SECRET"
    longer = app.narrowed(["read", "stat"], handle=HANDLE, expires_in=86400, now=NOW)
    assert longer.policy["call"] == ["read", "stat"]
    assert longer.policy["expiry"] == NOW + 86400


def test_narrowed_never_outlives_or_outgrows_its_policy() -> None:
    app = Security.create(
        "SECRET", expiry=NOW + 60, call=["read", "stat"], handle=HANDLE, max_size=10, path="a/.*"
    )
    narrow = app.narrowed(["read"], handle=HANDLE, expires_in=86400, now=NOW)
    assert narrow.policy == {
        "call": ["read"],
        "handle": HANDLE,
        "expiry": NOW + 60,
        "maxSize": 10,
        "path": "a/.*",
    }
    with pytest.raises(ConfigurationError, match=r"does not allow the call\(s\) \['remove'\]"):
        app.narrowed(["read", "remove"], handle=HANDLE, now=NOW)
    with pytest.raises(ConfigurationError, match="for another handle"):
        app.narrowed(["read"], handle=OTHER, now=NOW)
    with pytest.raises(ConfigurationError, match="has expired"):
        app.narrowed(["read"], handle=HANDLE, now=NOW + 60)
    everything = Security.create("SECRET", expiry=NOW + 60)  # no call: all but exif
    with pytest.raises(ConfigurationError, match="exif"):
        everything.narrowed(["exif"], now=NOW)


def test_narrowed_to_an_external_url_matches_it_exactly() -> None:
    app = Security.create("SECRET", expiry=NOW + 86400, url=r"https://a\.io/.*")
    source = "https://a.io/x.png?size=1+2"
    narrow = app.narrowed(["read", "convert"], url=source, now=NOW)
    pattern = narrow.policy["url"]
    assert re.fullmatch(pattern, source)
    assert not re.fullmatch(pattern, "https://a.io/x.pngX")
    assert not re.search(pattern, "https://evil.io/?https://a.io/x.png?size=1+2")
    with pytest.raises(ConfigurationError, match="does not match this policy's url"):
        app.narrowed(["read"], url="https://b.io/x.png", now=NOW)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"call": "read"}, "call must be a list of strings"),
        ({"call": 5}, "call must be a list of strings"),
        ({"call": []}, "at least one call"),
        ({"call": ["read", "fly"]}, "unknown values"),
        ({"call": ["read"], "expires_in": 0}, "positive"),
        ({"call": ["read"], "expires_in": float("nan")}, "finite number"),
        ({"call": ["read"], "expires_in": "60"}, "finite number"),
        ({"call": ["read"], "expires_in": 10**30}, "at most"),
        ({"call": ["read"], "handle": 5}, "handle must be a non-empty string"),
        ({"call": ["read"], "url": ""}, "url must be a non-empty string"),
        ({"call": ["read"], "now": "now"}, "now must be unix seconds"),
    ],
)
def test_narrowed_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    app = Security.create("SECRET", expiry=NOW + 86400)
    with pytest.raises(ConfigurationError, match=message):
        app.narrowed(**kwargs)


def test_a_ready_made_policy_holds_no_secret_and_is_sent_as_given() -> None:
    made = Security({"expiry": 1572390000, "call": ["read"]}, "SECRET")
    given = Security.from_signature(made.policy_b64, made.signature.upper())
    assert not given.has_secret and made.has_secret
    assert given == made and hash(given) == hash(made)
    assert given.as_url_string() == made.as_url_string()
    assert given.secrets() == (made.signature, made.policy_b64)
    assert pickle.loads(pickle.dumps(given)) == given
    assert not pickle.loads(pickle.dumps(given)).has_secret
    with pytest.raises(ConfigurationError, match="needs the app secret"):
        given.narrowed(["read"])


@pytest.mark.parametrize(
    ("policy_b64", "signature", "message"),
    [
        (None, "0" * 64, "policy_b64 must be a non-empty string"),
        ("", "0" * 64, "policy_b64 must be a non-empty string"),
        (" eyJleHBpcnkiOiAxMjN9", "0" * 64, "without spaces"),
        ("eyJleHBpcnkiOiAxMjN9", "0" * 63, "64 hexadecimal"),
        ("eyJleHBpcnkiOiAxMjN9", None, "64 hexadecimal"),
        ("not base64!", "0" * 64, "not base64-encoded JSON"),
        ("WzFd", "0" * 64, "JSON object"),
        (encode_policy({"expiry": "soon"}), "0" * 64, "'expiry' must be int"),
    ],
)
def test_from_signature_rejects_bad_arguments(
    policy_b64: object, signature: object, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Security.from_signature(policy_b64, signature)  # type: ignore[arg-type]
