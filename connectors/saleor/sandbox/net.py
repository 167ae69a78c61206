"""The sandbox talks to loopback only: every outbound URL and bind address is checked."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host != "localhost":
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback
                               for info in infos)


def is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and is_loopback_host(
        parts.hostname or "")


class NotLoopback(ValueError):
    """The sandbox refused to bind to or call an address that is not loopback."""


def require_loopback_url(url: str) -> str:
    if not is_loopback_url(url):
        raise NotLoopback(f"the sandbox only talks to loopback addresses, not {url!r}")
    return url


def outbound_session() -> requests.Session:
    """A session that ignores proxy settings from the environment: loopback stays local."""
    session = requests.Session()
    session.trust_env = False
    return session
