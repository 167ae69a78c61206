"""SSRF protection for URLs operators configure: check where a host resolves, then connect to
exactly that checked address, so DNS rebinding between check and connect cannot happen."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest
from requests.adapters import HTTPAdapter

from connectors.http.failures import RefusedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
SCHEMES = {"http": 80, "https": 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")

if not hasattr(HTTPAdapter, "build_connection_pool_key_attributes"):  # fail closed, not unpinned
    raise ImportError("connectors.http pins connections through a hook of requests>=2.32.2")


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AllowList:
    """Hosts, IP addresses and networks an operator admits although they are not public.
    With `only`, nothing else is admitted, public or not, and a host name off the list is
    refused before it is looked up: a closed installation sends not even a DNS query."""

    def __init__(self, entries: Iterable[str], *, only: bool = False) -> None:
        self.only = only
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self.names.add(entry)

    def admits_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def admits_address(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    if (int(address) >> 32 == 0 and int(address) > 1) or address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def forbidden_reason(address: IPAddress) -> str | None:
    """Why the hub must not call this address on its own, or None for a public address."""
    for candidate in (*embedded_ipv4(address), address):
        for reason, hit in (("unspecified", candidate.is_unspecified),
                            ("loopback", candidate.is_loopback),
                            ("link-local", candidate.is_link_local),
                            ("multicast", candidate.is_multicast),
                            ("private", candidate.is_private),
                            ("reserved", candidate.is_reserved),
                            ("non-public", not candidate.is_global)):
            if hit:
                return reason if candidate is address else f"{reason} (embedded {candidate})"
    return None


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's host and port, and the checked address to dial."""

    scheme: str
    host: str
    port: int
    address: str
    host_is_ip: bool

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def check_url(url: str, allow: AllowList, resolve: Resolver, *, redirect: bool = False) -> Target:
    """Resolve and check url's host; every address must be public unless the operator allowed
    the host or that address. Raises RefusedAddress before any connection is made."""
    via = "a redirect to " if redirect else ""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise RefusedAddress(f"{via}scheme {scheme or '(none)'!r} is refused: only http and https")
    try:
        host, port = (parts.hostname or "").lower(), parts.port or SCHEMES[scheme]
    except ValueError:
        raise RefusedAddress(f"{via}a URL with an invalid port is refused") from None
    if not host:
        raise RefusedAddress(f"{via}a URL without a host is refused")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if allow.only and literal is None and not allow.admits_host(host):
        raise RefusedAddress(f"{via}{host} is refused: not in outbound_allow_hosts, and "
                             "outbound_allow_only admits nothing else")
    addresses = [host] if literal is not None else list(resolve(host, port))
    if not addresses:
        raise socket.gaierror(f"{host} resolved to no address")
    if not allow.admits_host(host):
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            reason = None if allow.admits_address(address) else (
                forbidden_reason(address) or ("public" if allow.only else None))
            if reason:
                shown = host if literal is not None else f"{host} ({text})"
                raise RefusedAddress(f"{via}{shown} is refused: {reason} address, not in "
                                     "outbound_allow_hosts")
    return Target(scheme, host, port, addresses[0], literal is not None)


class PinnedRequest(PreparedRequest):
    """A prepared request carrying the Target its URL was checked against."""

    target: Target | None = None


class PinnedAdapter(HTTPAdapter):
    """Dials the checked address while sending the URL's Host header and, for https, its name
    as SNI and for certificate verification. Refuses a request that was never checked."""

    def build_connection_pool_key_attributes(
            self, request: PreparedRequest, verify: bool | str,
            cert: tuple[str, str] | str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        target = getattr(request, "target", None)
        if not isinstance(target, Target):
            raise RefusedAddress("an unchecked request reached the transport")
        host_params.update(host=target.address, port=target.port)
        if target.scheme == "https" and not target.host_is_ip:
            pool_kwargs.update(server_hostname=target.host, assert_hostname=target.host)
        return host_params, pool_kwargs
