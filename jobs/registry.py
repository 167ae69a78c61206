"""The one table of sync jobs: what each runs, on which queue, under which health stream, and
which of them apply to a connection. Everything that schedules or runs a job reads it here."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["JOBS", "JobSpec", "job_id", "job_spec", "jobs_for", "resolve", "substitute"]


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str             # "module:function", imported when the job runs
    queue: str              # one of hub.queue.QUEUES
    stream: str             # the stream_cursor row its health is recorded on
    calls_platform: bool    # waits while the connection's circuit breaker is open
    stand_in: Callable[[int], Any] | None = None  # tests only: run this instead of target


JOBS: dict[str, JobSpec] = {spec.name: spec for spec in (
    JobSpec("drain", "jobs.inbox:drain_inbox", "orders", "inbox", calls_platform=False),
    JobSpec("poll", "jobs.polling:poll_orders", "orders", "orders.pull", calls_platform=True),
    JobSpec("push", "jobs.push:push_changes", "stock", "push.catalog", calls_platform=True),
    JobSpec("notify", "jobs.partner:notify_catalog_changes", "catalog",
            "notifications.catalog", calls_platform=False),
    JobSpec("deliver", "jobs.notifications:deliver_due", "catalog", "notifications",
            calls_platform=True),
    JobSpec("link_outs", "jobs.partner:push_link_outs", "catalog", "link_outs",
            calls_platform=True),
    JobSpec("tracking", "jobs.tracking:push_tracking", "orders", "fulfilment.push",
            calls_platform=True),
)}

# Per connector: the jobs that keep its connection in sync, in the order `gudok sync run`
# runs them (what comes in first, then what goes out). Other connectors: by capability.
_BY_CONNECTOR: dict[str, tuple[str, ...]] = {
    "partner": ("drain", "poll", "notify", "deliver"),
    "saleor": ("drain", "poll", "push", "link_outs"),
}


def job_spec(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise ValueError(f"unknown job {name!r} (known: {', '.join(JOBS)})") from None


def job_id(name: str, connection_id: int) -> str:
    """The deterministic RQ job id, one queued job per (job, connection): "<job>-<connection>"
    (RQ allows only letters, digits, underscores and dashes in an id)."""
    return f"{name}-{connection_id}"


def jobs_for(connector: str, capabilities: frozenset[str] | set[str],
             config: Mapping[str, Any], has_secrets: bool = False) -> list[str]:
    """The jobs that apply to a connection of this connector, capabilities and config."""
    names = _BY_CONNECTOR.get(connector)
    if names is None:
        wanted = {"drain": "orders.webhook" in capabilities, "poll": "orders.pull" in capabilities,
                  "push": bool({"catalog.push", "inventory.push"} & set(capabilities))}
        names = tuple(name for name, applies in wanted.items() if applies)
    return [name for name in names
            if name != "poll" or _polls(connector, capabilities, config, has_secrets)]


def _polls(connector: str, capabilities: frozenset[str] | set[str], config: Mapping[str, Any],
           has_secrets: bool) -> bool:
    """Polling needs somewhere to read from: a partner's event log, an installed mall."""
    if "orders.pull" not in capabilities:
        return False
    if connector == "partner":
        return bool(config.get("events_url"))
    if connector == "saleor":
        return has_secrets  # the app token arrives with the install
    return True


def resolve(spec: JobSpec) -> Callable[[int], Any]:
    """The job's function; ImportError or AttributeError when its module or name is missing."""
    if spec.stand_in is not None:
        return spec.stand_in
    module_name, _, function_name = spec.target.partition(":")
    function: Callable[[int], Any] = getattr(importlib.import_module(module_name), function_name)
    return function


@contextmanager
def substitute(name: str, function: Callable[[int], Any]) -> Iterator[JobSpec]:
    """Tests: run `function` for job `name` (in this process) until the block ends."""
    original = job_spec(name)
    JOBS[name] = replace(original, stand_in=function)
    try:
        yield JOBS[name]
    finally:
        JOBS[name] = original
