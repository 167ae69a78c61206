"""Helpers for the transport tests: a fake clock, a guard that lets sockets reach loopback only,
and a real HTTP(S) server on 127.0.0.1 (or ::1) that records what it was sent."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


class FakeClock:
    """Epoch seconds that move only when a test sleeps or advances them."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def connection_id() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def guard_sockets(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every TCP connect; refuse (and record) any that is not to loopback, so no test
    can send traffic outside this machine even if the transport's own checks were broken."""
    seen: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host, port = str(address[0]), int(address[1])
            seen.append((host, port))
            if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                raise OSError(f"test guard: refused a connect to {host}:{port}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: connect(self, address))
    return seen


class Recorder(BaseHTTPRequestHandler):
    """/redirect?to=URL&status=302 redirects (to itself by default); /slow?seconds=S stalls;
    anything else answers JSON."""

    seen: list[dict[str, Any]]

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append({"method": self.command, "path": self.path,
                          "host": self.headers.get("Host"),
                          "authorization": self.headers.get("Authorization"), "body": body})
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/redirect":
            self.send_response(int(query.get("status", "302")))
            self.send_header("Location", query.get("to", "/redirect"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts.path == "/slow":
            time.sleep(float(query.get("seconds", "1")))
        payload = json.dumps({"path": parts.path, "host": self.headers.get("Host")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass


@contextmanager
def local_server(host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A real server on a loopback port of its own; yields the port and the requests seen."""
    seen: list[dict[str, Any]] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server_class = type("Server", (ThreadingHTTPServer,), {
        "address_family": socket.AF_INET6 if ":" in host else socket.AF_INET,
        "daemon_threads": True})
    server = server_class((host, 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
