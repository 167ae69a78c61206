"""A `gudok settle` that stops dead in the middle of posting, for the kill test.

Run as `python -m tests.jobs.settle_fault --pause-after N --marker PATH -- settle ...`: the
real command, except that its N-th batch of ledger entries is inserted and then, before the
commit, PATH is written and the process waits to be killed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

PAUSED_FOR = 120.0  # seconds the paused run waits to be killed; far beyond any test


def pause_mid_posting(after_batches: int, marker: Path) -> None:
    from hub.services import ledger

    write = ledger.Poster.write
    seen = 0

    def write_then_stop(self: Any, postings: Any, funding: Any) -> int:
        nonlocal seen
        written = write(self, postings, funding)
        seen += 1
        if seen >= after_batches:
            self.session.flush()
            marker.write_text(f"{os.getpid()} {written}\n")
            time.sleep(PAUSED_FOR)
        return written

    ledger.Poster.write = write_then_stop  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    after, marker, rest = 0, None, list(argv)
    while rest and rest[0] != "--":
        option, value, *rest = rest
        if option == "--pause-after":
            after = int(value)
        elif option == "--marker":
            marker = Path(value)
        else:
            raise SystemExit(f"unknown option {option}")
    if marker is not None and after:
        pause_mid_posting(after, marker)
    from hub.cli import main as gudok

    sys.argv = ["gudok", *rest[1:]]
    gudok()


if __name__ == "__main__":
    main(sys.argv[1:])
