"""SSRF protection: refused addresses are refused before any socket opens, allow-listed
loopback sandboxes are served by a real local server, the connection goes to the address that
was checked (DNS rebinding), and redirects are checked hop by hop. Only loopback is dialled."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.http import HttpClient
from connectors.http.failures import FIX_ADDRESS, FIX_TLS
from hub.errors import ConfigurationError, TransientError
from tests.connectors.http_support import connection_id, guard_sockets, local_server

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture(autouse=True)
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    return guard_sockets(monkeypatch)


@pytest.fixture
def server() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    with local_server() as running:
        yield running


def client(allow: list[str], **options: Any) -> HttpClient:
    return HttpClient(connection_id(), allow_hosts=allow, max_attempts=1, sleep=lambda s: None,
                      **options)


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Answer these names from the dict, one answer per lookup (the last one repeats)."""
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        asked.append(host)
        address = answers[host][min(len(asked), len(answers[host])) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/admin", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/json", "http://[::ffff:127.0.0.1]:{port}/json",
    "http://[::127.0.0.1]:{port}/json", "http://[64:ff9b::a00:1]/", "http://0.0.0.0:{port}/",
    "http://[::]:{port}/", "http://localhost:{port}/json", "http://2130706433:{port}/json",
    "http://127.0.0.1:{port}/json", "http://[fe80::1%25lo]:{port}/", "http://224.0.0.1/",
])
def test_non_public_addresses_are_refused_before_any_connection(
        url: str, server: tuple[int, list[dict[str, Any]]],
        connects: list[tuple[str, int]]) -> None:
    port, seen = server
    with pytest.raises(ConfigurationError) as raised:
        client([]).request("GET", url.format(port=port))
    assert raised.value.fix == FIX_ADDRESS
    assert "refused" in raised.value.message
    assert connects == [] and seen == []


def test_a_name_is_refused_when_any_of_its_addresses_is_private(
        monkeypatch: pytest.MonkeyPatch, connects: list[tuple[str, int]]) -> None:
    fake_dns(monkeypatch, {"intranet.example": ["10.1.2.3"]})
    with pytest.raises(ConfigurationError, match=r"intranet\.example \(10\.1\.2\.3\)"):
        client([]).request("GET", "https://intranet.example/")
    assert connects == []


@pytest.mark.parametrize("url", ["https://mall.example.kr/graphql/", "http://93.184.216.34/",
                                 "http://127.0.0.2:{port}/json"])
def test_allow_only_refuses_what_is_off_the_list_before_looking_it_up(
        url: str, monkeypatch: pytest.MonkeyPatch, server: tuple[int, list[dict[str, Any]]],
        connects: list[tuple[str, int]]) -> None:
    port, seen = server
    asked = fake_dns(monkeypatch, {"mall.example.kr": ["93.184.216.34"]})
    with pytest.raises(ConfigurationError) as raised:
        client(["127.0.0.1", "localhost"], allow_only=True).request("GET", url.format(port=port))
    assert raised.value.fix == FIX_ADDRESS and "refused" in raised.value.message
    assert asked == [] and connects == [] and seen == []
    # What is on the list is still called.
    with client(["127.0.0.1", "localhost"], allow_only=True) as http:
        assert http.request("GET", f"http://localhost:{port}/json").status_code == 200
    assert connects == [("127.0.0.1", port)]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https_are_called(url: str, connects: list[tuple[str, int]]) -> None:
    with pytest.raises(ConfigurationError, match="only http and https"):
        client(["127.0.0.1"]).request("GET", url)
    assert connects == []


@pytest.mark.parametrize("allow", [["127.0.0.1"], ["127.0.0.0/8"], ["localhost"]])
def test_an_allow_listed_loopback_sandbox_is_called(
        allow: list[str], server: tuple[int, list[dict[str, Any]]],
        connects: list[tuple[str, int]]) -> None:
    port, seen = server
    host = "localhost" if allow == ["localhost"] else "127.0.0.1"
    with client(allow) as http:
        body = http.json_body(http.request("GET", f"http://{host}:{port}/json?page=2"))
    assert body == {"path": "/json", "host": f"{host}:{port}"}
    assert connects[-1] == ("127.0.0.1", port) and len(seen) == 1


def test_an_ipv6_loopback_sandbox_is_called_when_allow_listed(
        connects: list[tuple[str, int]]) -> None:
    # The machines this runs on have ::1 (Redis binds it too); if one had not, failing here
    # says so, where a skip would hide that IPv6 sandboxes were never checked.
    running = local_server("::1")
    port, seen = running.__enter__()
    try:
        response = client(["::1"]).request("GET", f"http://[::1]:{port}/json")
        assert response.json()["host"] == f"[::1]:{port}" and connects == [("::1", port)]
    finally:
        running.__exit__(None, None, None)


def test_the_connection_goes_to_the_checked_address_not_a_rebound_one(
        monkeypatch: pytest.MonkeyPatch, server: tuple[int, list[dict[str, Any]]],
        connects: list[tuple[str, int]]) -> None:
    port, seen = server
    asked = fake_dns(monkeypatch, {"rebind.example": ["127.0.0.1", "10.0.0.1"]})
    http = client(["127.0.0.1"])
    response = http.request("GET", f"http://rebind.example:{port}/json")
    assert response.json() == {"path": "/json", "host": f"rebind.example:{port}"}
    assert asked == ["rebind.example"], "resolved once, by the check"
    assert connects == [("127.0.0.1", port)]
    with pytest.raises(ConfigurationError, match="private"):
        http.request("GET", f"http://rebind.example:{port}/json")
    assert connects == [("127.0.0.1", port)] and len(seen) == 1


def test_a_redirect_to_a_refused_address_is_refused(
        server: tuple[int, list[dict[str, Any]]], connects: list[tuple[str, int]]) -> None:
    port, seen = server
    for target in ("http://169.254.169.254/latest/meta-data/", f"http://[::1]:{port}/json",
                   "file:///etc/passwd"):
        with pytest.raises(ConfigurationError, match="a redirect to") as raised:
            client(["127.0.0.1"]).request(
                "GET", f"http://127.0.0.1:{port}/redirect", params={"to": target})
        assert raised.value.fix == FIX_ADDRESS
    assert {address for address in connects} == {("127.0.0.1", port)} and len(seen) == 3


def test_redirects_keep_a_307_body_and_drop_credentials_for_another_host(
        server: tuple[int, list[dict[str, Any]]]) -> None:
    port, seen = server
    http = client(["127.0.0.1", "localhost"])
    http.request("POST", f"http://127.0.0.1:{port}/redirect",
                 params={"to": f"http://localhost:{port}/json", "status": "307"},
                 json={"n": 1}, headers={"Authorization": "Bearer s3cr3t"})
    assert [(r["method"], r["authorization"], r["body"]) for r in seen] == [
        ("POST", "Bearer s3cr3t", b'{"n": 1}'), ("POST", None, b'{"n": 1}')]


def test_redirects_stop_after_five(server: tuple[int, list[dict[str, Any]]]) -> None:
    port, seen = server
    loop = f"http://127.0.0.1:{port}/redirect"
    with pytest.raises(ConfigurationError, match="too many redirects"):
        client(["127.0.0.1"]).request("GET", loop)
    assert len(seen) == 6


def test_a_slow_answer_times_out(server: tuple[int, list[dict[str, Any]]]) -> None:
    port, _seen = server
    with pytest.raises(TransientError, match="did not answer in time"):
        client(["127.0.0.1"], read_timeout=0.2).request(
            "GET", f"http://127.0.0.1:{port}/slow?seconds=1")


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name`, as (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_is_pinned_yet_verified_against_the_host_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        connects: list[tuple[str, int]]) -> None:
    cert_file, key_file = _certificate(tmp_path, "sandbox.example")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    fake_dns(monkeypatch, {"sandbox.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    with local_server(tls=tls) as (port, seen):
        trusted = client(["127.0.0.1"], verify=str(cert_file))
        response = trusted.request("GET", f"https://sandbox.example:{port}/json")
        assert response.json()["host"] == f"sandbox.example:{port}"
        for http, url in ((trusted, f"https://other.example:{port}/json"),  # name mismatch
                          (client(["127.0.0.1"]), f"https://sandbox.example:{port}/json")):
            with pytest.raises(ConfigurationError) as raised:  # not a trusted CA
                http.request("GET", url)
            assert raised.value.fix == FIX_TLS
    assert set(connects) == {("127.0.0.1", port)} and len(seen) == 1
    assert ipaddress.ip_address(connects[0][0]).is_loopback
