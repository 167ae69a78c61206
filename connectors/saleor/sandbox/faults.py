"""Faults the sandbox can be told to inject, from Python (or its control endpoint)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MAX_HANG_SECONDS = 30.0


@dataclass
class HttpFault:
    status: int | None = None  # answer this status instead of the real answer
    retry_after: float | None = None
    hang: float = 0.0  # wait this long first
    process: bool = False  # after hanging, answer normally (the change is applied)


@dataclass
class DeliveryFaults:
    duplicate: bool = False
    tamper_signature: bool = False
    tamper_body: bool = False
    wrong_key: bool = False
    unknown_kid: bool = False


@dataclass
class _Queued:
    remaining: int
    fault: HttpFault
    path: str


@dataclass
class Faults:
    """Injects HTTP failures on the API and mischief in webhook deliveries.

    Every `*_next` fault applies to the next n matching requests or deliveries, then ends;
    `slow` applies until changed; `reset()` clears everything."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _http: list[_Queued] = field(default_factory=list)
    _slow: float = 0.0
    _duplicate: int = 0
    _tamper_signature: int = 0
    _tamper_body: int = 0
    _wrong_key: list[bool] = field(default_factory=list)
    _reorder: int = 0

    # -- the API ------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, retry_after: float | None = None,
                  path: str = "/graphql/") -> None:
        """The next n requests to `path` answer `status` (429 with Retry-After if given)."""
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        with self._lock:
            self._http.append(_Queued(n, HttpFault(status=status, retry_after=retry_after),
                                      path))

    def slow(self, seconds: float) -> None:
        """Every API request waits `seconds` before it is answered; 0 ends it."""
        with self._lock:
            self._slow = max(0.0, min(seconds, MAX_HANG_SECONDS))

    def hang_next(self, n: int = 1, seconds: float = MAX_HANG_SECONDS, process: bool = False,
                  path: str = "/graphql/") -> None:
        """The next n requests wait (at most 30 s), then get 504, or are processed after
        all when `process` (a client that timed out never sees the change it made)."""
        wait = max(0.0, min(seconds, MAX_HANG_SECONDS))
        status = None if process else 504
        with self._lock:
            self._http.append(_Queued(n, HttpFault(status=status, hang=wait, process=process),
                                      path))

    # -- webhook deliveries -------------------------------------------------------------

    def duplicate_deliveries(self, n: int = 1) -> None:
        """The next n deliveries are sent twice, byte for byte."""
        with self._lock:
            self._duplicate += n

    def reorder_deliveries(self, n: int = 2) -> None:
        """Hold the next n deliveries and send them in reverse order (drain() flushes)."""
        if n < 2:
            raise ValueError("reordering needs at least two deliveries")
        with self._lock:
            self._reorder = n

    def tamper_next_signature(self, n: int = 1) -> None:
        """The next n deliveries carry a signature with one bit flipped."""
        with self._lock:
            self._tamper_signature += n

    def tamper_next_body(self, n: int = 1) -> None:
        """The next n deliveries have their body changed after signing."""
        with self._lock:
            self._tamper_body += n

    def sign_with_wrong_key_next(self, n: int = 1, unknown_kid: bool = False) -> None:
        """The next n deliveries are signed by a key not in the JWKS (same kid unless
        `unknown_kid`)."""
        with self._lock:
            self._wrong_key.extend([unknown_kid] * n)

    def reset(self) -> None:
        with self._lock:
            self._http.clear()
            self._slow = 0.0
            self._duplicate = self._tamper_signature = self._tamper_body = self._reorder = 0
            self._wrong_key.clear()

    # -- used by the server and the dispatcher ------------------------------------------

    @property
    def slow_seconds(self) -> float:
        return self._slow

    def take_http(self, path: str) -> HttpFault | None:
        with self._lock:
            for queued in self._http:
                if queued.path.rstrip("/") == path.rstrip("/"):
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._http.remove(queued)
                    return queued.fault
        return None

    def take_delivery(self) -> DeliveryFaults:
        with self._lock:
            faults = DeliveryFaults(duplicate=self._duplicate > 0,
                                    tamper_signature=self._tamper_signature > 0,
                                    tamper_body=self._tamper_body > 0,
                                    wrong_key=bool(self._wrong_key))
            if self._wrong_key:
                faults.unknown_kid = self._wrong_key.pop(0)
            self._duplicate = max(self._duplicate - 1, 0)
            self._tamper_signature = max(self._tamper_signature - 1, 0)
            self._tamper_body = max(self._tamper_body - 1, 0)
            return faults

    def take_reorder(self) -> int:
        """How many deliveries to hold now (0: none); consumed once."""
        with self._lock:
            count, self._reorder = self._reorder, 0
            return count
