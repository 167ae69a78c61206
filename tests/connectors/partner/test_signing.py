"""Standard Webhooks signing: the worked example, acceptance and rejection as properties,
key rotation, and every malformed header answered as the sender's mistake (400)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from connectors.base import WebhookSignatureError
from connectors.partner import signing
from connectors.partner.signing import (
    InvalidSignature,
    MalformedSignature,
    VerifiedMessage,
    check_body,
    headers_for,
    new_secret,
    parse_secret,
    sign,
    verify,
)
from hub.errors import ConfigurationError

KEY = b"gudok-hub worked example key 01!"
SECRET = "whsec_Z3Vkb2staHViIHdvcmtlZCBleGFtcGxlIGtleSAwMSE="
OTHER_SECRET = "whsec_" + base64.b64encode(b"a second key, for rotation tests").decode()
MSG_ID = "msg_2Yx7Kq4WbN8fT3cR"
NOW = 1767225600  # 2026-01-01T00:00:00Z
BODY = b'{"type":"order.placed","timestamp":"2026-01-01T00:00:00Z","data":{"order_id":"P-1001"}}'
EXPECTED = "v1,1ARuJOMTBvaFyWn/m+V9Nn+t2S/iLNfDEluid5fmeUc="
FEW = settings(max_examples=100, derandomize=True, deadline=None)

ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=256)
bodies = st.binary(max_size=1024)
timestamps = st.integers(min_value=0, max_value=10**12 - 1)


def reference(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    """The signature computed straight from the specification, without the module."""
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def good_headers(**changes: str | None) -> dict[str, str]:
    """The worked example's headers, with some replaced (a None value drops the header)."""
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(NOW), "webhook-signature": EXPECTED}
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    return headers


# --- the worked example -------------------------------------------------------------------

def test_worked_example_matches_an_independent_hmac() -> None:
    assert base64.b64decode(SECRET.removeprefix("whsec_")) == KEY
    assert reference(KEY, MSG_ID, str(NOW), BODY) == EXPECTED
    assert sign(SECRET, MSG_ID, NOW, BODY) == EXPECTED
    assert headers_for(SECRET, MSG_ID, BODY, now=NOW + 0.9) == good_headers()
    assert verify([SECRET], good_headers(), BODY, now=NOW) == VerifiedMessage(MSG_ID, NOW)


def test_worked_example_is_documented_in_the_module() -> None:
    doc = signing.__doc__ or ""
    for value in (SECRET, KEY.hex(), MSG_ID, str(NOW), BODY.decode(), EXPECTED):
        assert value in doc


def test_the_specifications_test_vector() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    assert verify([secret], headers, b'{"test": 2432232314}', now=1614265330).timestamp \
        == 1614265330


def test_headers_are_found_whatever_their_case_and_now_may_be_a_datetime() -> None:
    mixed = {"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(NOW), "webhook-Signature": EXPECTED}
    when = datetime.fromtimestamp(NOW + 200, UTC)
    assert verify([SECRET], mixed, BODY, now=when).msg_id == MSG_ID
    assert verify([SECRET], CaseInsensitiveDict(mixed), BODY, now=NOW).msg_id == MSG_ID
    with pytest.raises(ValueError):
        verify([SECRET], mixed, BODY, now=datetime(2026, 1, 1))  # naive: refused


# --- acceptance and rejection as properties -----------------------------------------------

@FEW
@given(msg_id=ids, body=bodies, timestamp=timestamps, skew=st.integers(-300, 300))
def test_valid_signatures_are_accepted(msg_id: str, body: bytes, timestamp: int,
                                       skew: int) -> None:
    headers = headers_for(SECRET, msg_id, body, now=timestamp)
    assert headers["webhook-signature"] == reference(KEY, msg_id, str(timestamp), body)
    assert verify([SECRET], headers, body, now=timestamp + skew) == \
        VerifiedMessage(msg_id, timestamp)


@FEW
@given(body=bodies.filter(bool), data=st.data())
def test_a_changed_body_byte_is_rejected(body: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(body) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
    headers = headers_for(SECRET, MSG_ID, body, now=NOW)
    with pytest.raises(InvalidSignature):
        verify([SECRET], headers, body[:index] + bytes([byte]) + body[index + 1:], now=NOW)


def one_char_changed(data: st.DataObject, text: str) -> str:
    """The text with one character replaced by any other byte (as a server decodes it)."""
    index = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.integers(0, 255).map(chr).filter(lambda c: c != text[index]))
    return text[:index] + char + text[index + 1:]


@FEW
@given(msg_id=ids, data=st.data())
def test_a_changed_id_byte_is_rejected(msg_id: str, data: st.DataObject) -> None:
    headers = headers_for(SECRET, msg_id, BODY, now=NOW)
    headers["webhook-id"] = changed = one_char_changed(data, msg_id)
    expected = InvalidSignature if signing._ID.fullmatch(changed) else MalformedSignature
    with pytest.raises(expected):
        verify([SECRET], headers, BODY, now=NOW)


@FEW
@given(timestamp=timestamps, data=st.data())
def test_a_changed_timestamp_byte_is_rejected(timestamp: int, data: st.DataObject) -> None:
    headers = headers_for(SECRET, MSG_ID, BODY, now=timestamp)
    headers["webhook-timestamp"] = changed = one_char_changed(data, str(timestamp))
    expected = InvalidSignature if signing._TIMESTAMP.fullmatch(changed) else MalformedSignature
    with pytest.raises(expected):  # a tolerance wide enough that only the signature decides
        verify([SECRET], headers, BODY, now=timestamp, tolerance_seconds=10**13)


@FEW
@given(data=st.data())
def test_a_changed_signature_byte_is_rejected(data: st.DataObject) -> None:
    headers = good_headers(webhook_signature=one_char_changed(data, EXPECTED))
    with pytest.raises(WebhookSignatureError):
        verify([SECRET], headers, BODY, now=NOW)


@FEW
@given(timestamp=timestamps, excess=st.floats(0.001, 10**6), tolerance=st.integers(0, 3600))
def test_outside_the_tolerance_either_way_is_rejected(timestamp: int, excess: float,
                                                      tolerance: int) -> None:
    headers = headers_for(SECRET, MSG_ID, BODY, now=timestamp)
    for now in (timestamp + tolerance + excess, timestamp - tolerance - excess):
        with pytest.raises(InvalidSignature):
            verify([SECRET], headers, BODY, now=now, tolerance_seconds=tolerance)
    for now in (timestamp + tolerance, timestamp - tolerance):
        assert verify([SECRET], headers, BODY, now=now, tolerance_seconds=tolerance)


def test_the_default_tolerance_is_five_minutes() -> None:
    assert verify([SECRET], good_headers(), BODY, now=NOW + 300)
    assert verify([SECRET], good_headers(), BODY, now=NOW - 300)
    for now in (NOW + 301, NOW - 301, NOW + 300.5):
        with pytest.raises(InvalidSignature, match="too old|future"):
            verify([SECRET], good_headers(), BODY, now=now)


# --- key rotation -------------------------------------------------------------------------

@FEW
@given(msg_id=ids, body=bodies, use_other=st.booleans())
def test_either_of_two_configured_secrets_is_accepted(msg_id: str, body: bytes,
                                                      use_other: bool) -> None:
    used = OTHER_SECRET if use_other else SECRET
    headers = headers_for(used, msg_id, body, now=NOW)
    assert verify([SECRET, OTHER_SECRET], headers, body, now=NOW).msg_id == msg_id
    assert verify([OTHER_SECRET, SECRET], headers, body, now=NOW).msg_id == msg_id
    with pytest.raises(InvalidSignature):
        verify([OTHER_SECRET if not use_other else SECRET], headers, body, now=NOW)


@FEW
@given(junk=st.lists(st.binary(min_size=32, max_size=32), max_size=5),
       others=st.lists(st.sampled_from(["v1a,c2lnbmF0dXJl", "v2,AAAA", "nocomma", "v1,%%%"]),
                       max_size=3),
       seed=st.randoms(use_true_random=False))
def test_one_valid_signature_among_several_is_enough(junk: list[bytes], others: list[str],
                                                     seed: Any) -> None:
    entries = [EXPECTED, *others, *("v1," + base64.b64encode(raw).decode() for raw in junk)]
    seed.shuffle(entries)
    headers = good_headers(webhook_signature=" ".join(entries))
    assert verify([SECRET], headers, BODY, now=NOW).msg_id == MSG_ID


def test_the_sender_may_sign_with_several_secrets() -> None:
    headers = headers_for([OTHER_SECRET, SECRET], MSG_ID, BODY, now=NOW)
    assert headers["webhook-signature"].split(" ")[1] == EXPECTED
    assert verify([SECRET], headers, BODY, now=NOW).msg_id == MSG_ID


# --- malformed headers: 400; wrong signatures: 401 ----------------------------------------

_URLSAFE = EXPECTED.replace("+", "-").replace("/", "_")
_SHORT = "v1," + base64.b64encode(bytes(31)).decode()

MALFORMED: dict[str, dict[str, str | None]] = {
    "no id": {"webhook_id": None}, "no timestamp": {"webhook_timestamp": None},
    "no signature": {"webhook_signature": None}, "empty id": {"webhook_id": ""},
    "empty timestamp": {"webhook_timestamp": ""}, "empty signature": {"webhook_signature": ""},
    "id with a space": {"webhook_id": "msg 1"}, "id with a NUL": {"webhook_id": "msg\x00"},
    "id too long": {"webhook_id": "m" * 257}, "non-ASCII id": {"webhook_id": "msg_é"},
    "timestamp not a number": {"webhook_timestamp": "yesterday"},
    "fractional timestamp": {"webhook_timestamp": f"{NOW}.5"},
    "timestamp with plus": {"webhook_timestamp": f"+{NOW}"},
    "negative timestamp": {"webhook_timestamp": f"-{NOW}"},
    "timestamp with leading space": {"webhook_timestamp": f" {NOW}"},
    "timestamp with trailing newline": {"webhook_timestamp": f"{NOW}\n"},
    "timestamp with underscores": {"webhook_timestamp": "1_767_225_600"},
    "timestamp with leading zero": {"webhook_timestamp": f"0{NOW}"},
    "timestamp in exponent form": {"webhook_timestamp": "1.7e9"},
    "huge timestamp": {"webhook_timestamp": "9" * 40},
    "Arabic-Indic digits": {"webhook_timestamp": "١٧٦٧٢٢٥٦٠٠"},
    "signature without comma": {"webhook_signature": EXPECTED.replace(",", "")},
    "signature with version only": {"webhook_signature": "v1,"},
    "unknown version only": {"webhook_signature": EXPECTED.replace("v1,", "v2,")},
    "asymmetric version only": {"webhook_signature": EXPECTED.replace("v1,", "v1a,")},
    "upper-case version": {"webhook_signature": EXPECTED.replace("v1,", "V1,")},
    "bad base64": {"webhook_signature": "v1,not-base64!"},
    "url-safe base64": {"webhook_signature": _URLSAFE},
    "unpadded base64": {"webhook_signature": EXPECTED.rstrip("=")},
    "31-byte signature": {"webhook_signature": _SHORT},
    "only spaces": {"webhook_signature": "   "},
    "absurdly long signature": {"webhook_signature": EXPECTED + " v1," + "A" * 5000},
    "non-ASCII signature": {"webhook_signature": EXPECTED + "é"},
}


@pytest.mark.parametrize("changes", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_headers_are_the_senders_mistake(changes: dict[str, str | None]) -> None:
    with pytest.raises(MalformedSignature) as raised:
        verify([SECRET], good_headers(**changes), BODY, now=NOW)
    assert raised.value.status == 400 and isinstance(raised.value, WebhookSignatureError)


def test_a_header_sent_twice_with_different_values_is_malformed() -> None:
    headers = {**good_headers(), "Webhook-Id": "msg_other"}
    with pytest.raises(MalformedSignature, match="more than once"):
        verify([SECRET], headers, BODY, now=NOW)


@FEW
@given(headers=st.dictionaries(st.sampled_from(["webhook-id", "webhook-timestamp",
                                                "webhook-signature", "Webhook-Id"]),
                               st.text(max_size=80)))
def test_arbitrary_headers_only_ever_fail_as_signature_errors(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookSignatureError):
        verify([SECRET], headers, BODY, now=NOW)


def test_a_wrong_secret_is_invalid_and_the_message_gives_nothing_away() -> None:
    with pytest.raises(InvalidSignature) as raised:
        verify([OTHER_SECRET], good_headers(), BODY, now=NOW)
    assert raised.value.status == 401
    text = str(raised.value)
    for secret_part in (SECRET, OTHER_SECRET, EXPECTED, sign(OTHER_SECRET, MSG_ID, NOW, BODY)):
        assert secret_part.removeprefix("v1,") not in text


# --- secrets and bodies -------------------------------------------------------------------

BAD_SECRETS = {
    "empty": "", "prefix only": "whsec_", "no prefix": SECRET.removeprefix("whsec_"),
    "upper-case prefix": "WHSEC_" + SECRET.removeprefix("whsec_"),
    "not base64": "whsec_this is not base64!", "unpadded": SECRET.rstrip("="),
    "too short a key": "whsec_" + base64.b64encode(bytes(16)).decode(),
    "too long a key": "whsec_" + base64.b64encode(bytes(65)).decode(),
    "non-ASCII": "whsec_Z3Vkb2staHViIHdvcmtlZCBleGFtcGxlIGtleSAwMSé=",
}


@pytest.mark.parametrize("secret", BAD_SECRETS.values(), ids=BAD_SECRETS.keys())
def test_a_bad_secret_is_refused_at_configuration_time(secret: str) -> None:
    for attempt in (lambda: parse_secret(secret), lambda: sign(secret, MSG_ID, NOW, BODY),
                    lambda: verify([SECRET, secret], good_headers(), BODY, now=NOW)):
        with pytest.raises(ConfigurationError) as raised:
            attempt()
        assert raised.value.fix.startswith("Use whsec_")
        assert len(secret) < 8 or secret not in raised.value.message


def test_a_connection_without_secrets_cannot_verify() -> None:
    with pytest.raises(ConfigurationError):
        verify([], good_headers(), BODY, now=NOW)


def test_new_secrets_are_random_and_well_formed() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and len(parse_secret(first)) == 32
    assert verify([first], headers_for(first, "msg_1", BODY, now=NOW), BODY, now=NOW)


def test_sign_refuses_what_verify_would_refuse() -> None:
    for msg_id in ("", "msg 1", "m" * 257, "msg_é"):
        with pytest.raises(ValueError):
            sign(SECRET, msg_id, NOW, BODY)
    for timestamp in (-1, 10**12):
        with pytest.raises(ValueError):
            sign(SECRET, MSG_ID, timestamp, BODY)


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b'{"name": "\xed\x95"}', b"\xc0\xaf"])
def test_empty_and_non_utf8_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedSignature):
        check_body(body)


@FEW
@given(body=st.text(min_size=1).map(str.encode))
def test_utf8_bodies_pass_the_body_check(body: bytes) -> None:
    check_body(body)
