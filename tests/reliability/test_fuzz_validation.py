"""Fuzzing store parameters and security policies.

Random dicts of random keys and values go to `validate_store_params`,
`Security.create` and `Security(policy, secret)`: each is either accepted, and then
rendered consistently (the upload bodies encode as strict JSON, the policy decodes
back, the signature verifies, the emulator accepts it), or refused with
`ConfigurationError` naming the key; never another exception.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from filestack_async import ConfigurationError, Endpoints, Security
from filestack_async._context import Context
from filestack_async._params import STORE_PARAMS, validate_store_params
from filestack_async._security import decode_policy, signature_matches, validate_policy
from filestack_async._tasks import parse_task
from filestack_async._uploads.protocol import STORE_KEYS, build_complete_body, build_start_body
from filestack_async.emulator.security import Credentials, Denied, check

from .conftest import Campaign, fuzz_settings
from .fuzz_strategies import junk

SECRET = "fuzz-secret"
keys = st.one_of(
    st.sampled_from(STORE_PARAMS), st.text(max_size=12), st.integers(), st.none(), st.just(())
)
plausible = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["public", "private", "S3", "", "\ud800x"]),
    st.booleans(),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=130), st.text(max_size=260), max_size=12),
)
values = st.one_of(plausible, junk)


def _strict_json(value: Any, *, ascii_only: bool = False) -> Any:
    """Encode as httpx does for a JSON body (strict: no NaN, UTF-8) and decode it back.

    ``ascii_only``: as a policy is encoded (non-ASCII escaped, so a lone surrogate can
    travel as ``\\ud800``)."""
    raw = json.dumps(value, ensure_ascii=ascii_only, allow_nan=False).encode("utf-8")
    return json.loads(raw)


def _names_a_key(message: str, params: dict[Any, Any]) -> bool:
    return any(repr(key) in message or str(key) in message for key in params)


def test_random_store_params_are_accepted_or_refused_by_key(campaign: Campaign) -> None:
    context = Context(Endpoints(), apikey="KEY")

    @fuzz_settings(campaign)
    @given(params=st.dictionaries(keys, values, max_size=5))
    def check_params(params: dict[Any, Any]) -> None:
        try:
            result = validate_store_params(params)
        except ConfigurationError as err:
            assert _names_a_key(str(err), params), str(err)
            return
        # accepted: nothing but the given, non-None known keys, values as given
        assert set(result) == {k for k, v in params.items() if v is not None}
        for key, value in result.items():
            expected = list(params[key]) if key == "workflows" else params[key]
            assert value == expected
        start = build_start_body(
            context,
            filename="f.bin",
            mimetype="application/octet-stream",
            size=1,
            store_params=result,
            security=None,
            intelligent=False,
        )
        for key in STORE_KEYS:
            if key in result:
                assert start["store"][key] == result[key]
        complete = build_complete_body(start, {"upload_id": "u"}, result, parts=[])
        if result.get("workflows"):
            assert complete["store"]["workflows"] == result["workflows"]
        if result.get("upload_tags"):
            assert complete["upload_tags"] == result["upload_tags"]
        assert _strict_json(start) == start
        assert _strict_json(complete)["store"] == complete["store"]

    check_params()

    @fuzz_settings(campaign)
    @given(params=junk)
    def check_anything(params: Any) -> None:
        try:
            validate_store_params(params)
        except ConfigurationError:
            pass

    check_anything()


fields = {
    "expiry": st.one_of(st.integers(-10, 2**40), st.floats(), junk),
    "expires_in": st.one_of(st.floats(), st.integers(-5, 10**6), junk),
    "call": st.one_of(
        st.lists(st.sampled_from(["read", "store", "pick", "convert", "remove", "x"])), junk
    ),
    "handle": st.one_of(st.from_regex(r"[A-Za-z0-9]{20}", fullmatch=True), junk),
    "url": st.one_of(st.text(max_size=20), junk),
    "max_size": st.one_of(st.integers(-5, 10**12), junk),
    "min_size": st.one_of(st.integers(-5, 10**12), junk),
    "path": st.one_of(st.text(max_size=20), junk),
    "container": st.one_of(st.text(max_size=20), junk),
}


@st.composite
def create_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=6))
    return {name: draw(fields[name]) for name in names}


def _check_accepted(sec: Security, secret: str) -> None:
    """An accepted policy renders consistently everywhere it is sent."""
    validate_policy(sec.policy)
    assert decode_policy(sec.policy_b64) == _strict_json(sec.policy, ascii_only=True)
    assert signature_matches(sec.policy_b64, sec.signature, secret)
    segment = parse_task(sec.as_url_string())
    assert (segment.get("p"), segment.get("s")) == (sec.policy_b64, sec.signature)
    assert sec.as_params() == {"policy": sec.policy_b64, "signature": sec.signature}
    assert sec.signature not in repr(sec) and sec.signature not in str(sec)
    if len(secret) >= 6 and secret not in repr(sec.policy):  # short ones appear by chance
        assert secret not in repr(sec)
    # the emulator (same secret) accepts it or denies it by a named rule, never crashes
    try:
        check(secret, Credentials(sec.policy_b64, sec.signature), call="read", now=0)
    except Denied as denied:
        assert denied.rule in {"expiry", "call", "handle", "url", "path", "container"}


def test_random_security_create_arguments(campaign: Campaign) -> None:
    @fuzz_settings(campaign)
    @given(
        secret=st.one_of(st.text(min_size=1, max_size=10), junk),
        kwargs=create_kwargs(),
    )
    def check_create(secret: Any, kwargs: dict[str, Any]) -> None:
        try:
            sec = Security.create(secret, **kwargs)
        except ConfigurationError:
            return
        assert isinstance(secret, str)
        policy = sec.policy
        assert isinstance(policy["expiry"], int)
        if kwargs.get("expiry") is not None:
            assert policy["expiry"] == int(kwargs["expiry"])
        for name, key in (("max_size", "maxSize"), ("min_size", "minSize"), ("path", "path")):
            if kwargs.get(name) is not None:
                assert policy[key] == kwargs[name]
        _check_accepted(sec, secret)

    check_create()


def test_random_policies(campaign: Campaign) -> None:
    known = st.sampled_from(["expiry", "call", "handle", "url", "maxSize", "minSize", "path"])
    policy_values = st.one_of(
        st.integers(0, 2**40),
        st.text(max_size=10),
        st.lists(st.sampled_from(["read", "store", "nope"]), max_size=3),
        st.floats(),
        junk,
    )

    @fuzz_settings(campaign)
    @given(
        policy=st.one_of(
            st.dictionaries(st.one_of(known, st.text(max_size=8), st.integers()), policy_values),
            junk,
        ),
        secret=st.one_of(st.text(min_size=1, max_size=10), st.sampled_from(["\ud800"])),
    )
    def check_policy(policy: Any, secret: str) -> None:
        try:
            sec = Security(policy, secret)
        except ConfigurationError:
            return
        assert not any(isinstance(v, float) and not math.isfinite(v) for v in sec.policy.values())
        _check_accepted(sec, secret)

    check_policy()


def test_random_credentials_against_the_emulator_check(campaign: Campaign) -> None:
    """Whatever policy/signature text a request carries: allowed or `Denied`, never a crash."""
    text = st.one_of(st.text(max_size=80), st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
    valid = Security({"expiry": 2**40, "call": ["read"]}, SECRET)

    @fuzz_settings(campaign)
    @given(
        policy=st.one_of(st.none(), text, st.just(valid.policy_b64)),
        signature=st.one_of(st.none(), text, st.just(valid.signature)),
        secret=st.one_of(st.none(), st.just(SECRET)),
        call=st.sampled_from(["read", "store", "pick"]),
        size=st.one_of(st.none(), st.integers(-1, 10**9)),
        path=st.one_of(st.none(), st.text(max_size=10)),
    )
    def check_credentials(
        policy: str | None,
        signature: str | None,
        secret: str | None,
        call: str,
        size: int | None,
        path: str | None,
    ) -> None:
        credentials = Credentials(policy, signature)
        try:
            check(secret, credentials, call=call, size=size, path=path, url=path)
        except Denied as denied:
            assert denied.rule and denied.message
            assert SECRET not in denied.message

    check_credentials()
