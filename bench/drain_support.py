"""The baseline job of bench/drain_throughput.py, in a module RQ can import by name (RQ
refuses functions of the script being run)."""

from __future__ import annotations


def noop() -> None:
    """RQ's own cost of running one job, nothing else."""
