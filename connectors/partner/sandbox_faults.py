"""Faults the partner sandbox can be told to inject, both ways: failures in its answers to
the hub's notifications, and mischief in the webhooks it sends to the hub.

Every fault is bounded (a count, or a delay capped at MAX_DELAY_SECONDS) and `reset()`
clears them all."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

MAX_DELAY_SECONDS = 30.0
MAX_COPIES = 20
RECEIVE_STATUSES = frozenset({408, 410, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ReceiveFault:
    """How one notification request is answered: after `delay`, with `status` (None:
    handled normally after all)."""

    status: int | None
    retry_after: float | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class SendFaults:
    """What happens to one webhook the platform sends."""

    copies: int = 1  # the same webhook-id and bytes sent this many times
    concurrent: bool = False  # the copies at once, from as many threads
    wrong_signature: bool = False  # signed with a key the hub does not have
    stale_timestamp: bool = False  # a webhook-timestamp far outside any tolerance
    held: bool = False  # held back, to be sent with its batch in reverse order
    release: bool = False  # the last of its batch: send the held ones now, reversed

    @property
    def names(self) -> tuple[str, ...]:
        found = [name for name in ("concurrent", "wrong_signature", "stale_timestamp", "held")
                 if getattr(self, name)]
        return (f"duplicate={self.copies}", *found) if self.copies > 1 else tuple(found)


def _delay(seconds: float) -> float:
    return max(0.0, min(float(seconds), MAX_DELAY_SECONDS))


class Faults:
    """Thread-safe; the server and the sender consume faults one request or webhook at a
    time, in the order they were queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._receive: deque[ReceiveFault] = deque()
        self._slow = 0.0
        self._copies: deque[tuple[int, bool]] = deque()
        self._wrong_signature = 0
        self._stale_timestamp = 0
        self._hold_left = 0

    # -- answers to the hub's notifications ---------------------------------------------

    def queue(self, status: int | None = 503, *, retry_after: float | None = None,
              delay: float = 0.0, times: int = 1) -> None:
        """The next `times` notification requests wait `delay` seconds, then answer
        `status` (429 with Retry-After when given); status None answers normally."""
        if status is not None and status not in RECEIVE_STATUSES:
            raise ValueError(f"status must be one of {sorted(RECEIVE_STATUSES)} or None")
        if not 1 <= times <= 1000:
            raise ValueError("times must be 1 to 1000")
        with self._lock:
            self._receive.extend([ReceiveFault(status, retry_after, _delay(delay))] * times)

    def slow(self, seconds: float) -> None:
        """Every notification request waits `seconds` (at most 30) first; 0 ends it."""
        with self._lock:
            self._slow = _delay(seconds)

    # -- the webhooks the platform sends ------------------------------------------------

    def duplicate(self, copies: int = 2, *, concurrent: bool = False, times: int = 1) -> None:
        """The next `times` webhooks are each sent `copies` times under one webhook-id,
        one after another or all at once."""
        if not 2 <= copies <= MAX_COPIES:
            raise ValueError(f"copies must be 2 to {MAX_COPIES}")
        with self._lock:
            self._copies.extend([(copies, concurrent)] * times)

    def out_of_order(self, batch: int = 2) -> None:
        """Hold the next `batch` webhooks and send them in reverse order once the last is
        made (PartnerSandbox.flush() sends a partial batch)."""
        if not 2 <= batch <= 100:
            raise ValueError("a reordered batch has 2 to 100 webhooks")
        with self._lock:
            self._hold_left = batch

    def wrong_signature(self, times: int = 1) -> None:
        """The next `times` webhooks are signed with a key the hub does not know."""
        with self._lock:
            self._wrong_signature += max(0, times)

    def stale_timestamp(self, times: int = 1) -> None:
        """The next `times` webhooks carry a webhook-timestamp two hours old."""
        with self._lock:
            self._stale_timestamp += max(0, times)

    def reset(self) -> None:
        """No more faults (webhooks already held stay held until flush())."""
        with self._lock:
            self._receive.clear()
            self._slow = 0.0
            self._copies.clear()
            self._wrong_signature = self._stale_timestamp = self._hold_left = 0

    # -- used by the server and the sender ----------------------------------------------

    @property
    def slow_seconds(self) -> float:
        with self._lock:
            return self._slow

    def take_receive(self) -> ReceiveFault | None:
        with self._lock:
            return self._receive.popleft() if self._receive else None

    def take_send(self) -> SendFaults:
        with self._lock:
            copies, concurrent = self._copies.popleft() if self._copies else (1, False)
            faults = SendFaults(copies=copies, concurrent=concurrent,
                                wrong_signature=self._wrong_signature > 0,
                                stale_timestamp=self._stale_timestamp > 0,
                                held=self._hold_left > 0, release=self._hold_left == 1)
            self._wrong_signature = max(self._wrong_signature - 1, 0)
            self._stale_timestamp = max(self._stale_timestamp - 1, 0)
            self._hold_left = max(self._hold_left - 1, 0)
            return faults
