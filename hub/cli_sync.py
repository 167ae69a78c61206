"""`gudok worker` and `gudok sync`: run queue workers, show each connection's sync health, and
run a connection's jobs by hand.

`gudok worker` needs GUDOK_REDIS_URL: without it there is no shared queue to work, and it
refuses in one line (jobs then run on the embedded queue of `gudok serve` and `gudok demo`,
or by hand with `gudok sync run`). It is an RQ SimpleWorker: jobs run in this process, in the
app context, keeping the database pool warm; RQ's scheduler runs beside it (retries and
rate-limit waits), and a sweeper thread re-queues unfinished work every --sweep-every
seconds (one worker sweeps per interval)."""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from hub.db import session_scope, utcnow
from hub.queue import QUEUES, redis_client
from hub.settings import Settings

__all__ = ["describe", "sync", "worker"]

NEEDS_REDIS = ("gudok worker: there is no queue to work without Redis: set GUDOK_REDIS_URL "
               "(e.g. redis://127.0.0.1:6379/0); without it jobs run on the embedded queue of "
               "`gudok serve` and `gudok demo`, or by hand with `gudok sync run`")


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined, no-any-return]


@click.command()
@click.option("--queues", default=",".join(QUEUES), show_default=True,
              help="queues to work, comma-separated; taken in priority order")
@click.option("--burst", is_flag=True, help="work until the queues are empty, then exit")
@click.option("--sweep-every", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="seconds between sweeps that re-queue unfinished work (0: none)")
@with_appcontext
def worker(queues: str, burst: bool, sweep_every: float) -> None:
    """Run an RQ worker on the sync queues, jobs inside the app context."""
    from redis import Redis, RedisError
    from rq import Queue, SimpleWorker

    from jobs.runner import use_app
    from jobs.sweeper import start_sweeper, sweep

    app = _app()
    settings: Settings = app.extensions["gudok"].settings
    if not settings.redis_url:
        click.echo(NEEDS_REDIS, err=True)
        sys.exit(2)
    names = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = sorted(set(names) - set(QUEUES))
    if unknown or not names:
        raise click.BadParameter(f"unknown queue {', '.join(unknown) or '(none)'}; the queues "
                                 f"are {', '.join(QUEUES)}", param_hint="--queues")
    connection = Redis.from_url(settings.redis_url)
    try:
        connection.ping()
    except RedisError as error:
        click.echo(f"gudok worker: Redis at GUDOK_REDIS_URL does not answer "
                   f"({type(error).__name__})", err=True)
        sys.exit(2)
    use_app(app)
    ordered = sorted(set(names), key=QUEUES.index)
    rq_worker = SimpleWorker([Queue(name, connection=connection) for name in ordered],
                             connection=connection)
    if sweep_every and burst:
        sweep(app)
    elif sweep_every:
        start_sweeper(app, sweep_every)
    rq_worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level)


sync = AppGroup("sync", help="Each connection's sync: health, and running its jobs by hand.")


@sync.command("status")
@click.option("--tenant", "tenant_code", default=None, help="only this tenant's connections")
def sync_status(tenant_code: str | None) -> None:
    """A table per connection: streams, last success, pending and dead rows, lag, the circuit
    and the last error with its class."""
    from hub.models import Connection, Tenant
    from hub.services.sync_status import connection_health

    app = _app()
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        query = select(Connection).order_by(Connection.id)
        if tenant_code is not None:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.code == tenant_code))
            if tenant_id is None:
                raise click.BadParameter(f"no tenant {tenant_code!r}", param_hint="--tenant")
            query = query.where(Connection.tenant_id == tenant_id)
        now = utcnow()
        health = [connection_health(session, connection, state.settings, redis_client(app),
                                    now=now)
                  for connection in session.scalars(query)]
    console = _console()
    if not health:
        console.print("no connections")
    for entry in health:
        console.print(_health_table(entry, now))


def _health_table(health: dict[str, Any], now: datetime) -> Any:
    from rich.markup import escape
    from rich.table import Table

    circuit = health["circuit"]
    failures = circuit.get("consecutive_failures")
    table = Table(title=escape(f"#{health['connection_id']} {health['name']} "
                               f"({health['connector']}, {health['status']}) · circuit "
                               f"{circuit['state']}")
                  + (f" after {failures} failures" if failures else ""),
                  title_justify="left")
    for column in ("stream", "last success", "pending", "dead", "lag", "last error"):
        table.add_column(column, no_wrap=column != "last error")
    streams = {row["stream"]: row for row in health["streams"]}
    lines: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        ("inbox", streams.pop("inbox", {}), health["inbox"])]
    outbox = health["outbox"]
    if "notifications" in streams or outbox["pending"] or outbox["dead"]:
        lines.append(("notifications", streams.pop("notifications", {}), outbox))
    lines.extend((name, row, None) for name, row in sorted(streams.items()))
    shown = set()
    for name, row, rows in lines:
        error = row.get("last_error")
        if error:
            shown.add(error)
        table.add_row(
            escape(name), _ago(row.get("last_success_at"), now),
            "-" if rows is None else str(rows["pending"]),
            "-" if rows is None else str(rows["dead"]),
            "-" if rows is None else _duration(rows["lag_seconds"]),
            escape(f"[{row.get('last_error_class')}] {error}") if error else "")
    last = health.get("last_error")
    if last and last.get("message") and last["message"] not in shown:
        table.caption = escape(f"last error ({last['stream']}, {last['class']}): "
                               f"{last['message']}")
        table.caption_justify = "left"
    return table


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{moment:%Y-%m-%d %H:%M:%S} ({_duration((now - moment).total_seconds())} ago)"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


@sync.command("run")
@click.option("--connection", "connection_id", type=int, required=True, help="connection id")
@click.option("--stream", default=None,
              help="only this job (drain, poll, push, notify, deliver, link_outs) or stream")
@click.pass_context
def sync_run(ctx: click.Context, connection_id: int, stream: str | None) -> None:
    """Run a connection's sync jobs (or one) here and now, printing each report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from connectors import UnknownConnector, get_connector
    from hub.models import Connection
    from jobs.registry import JOBS, jobs_for
    from jobs.runner import execute

    app = _app()
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise click.BadParameter(f"no connection {connection_id}", param_hint="--connection")
        try:
            capabilities = get_connector(connection.connector).capabilities
        except UnknownConnector:
            raise click.ClickException(f"connector {connection.connector!r} is not "
                                       "installed") from None
        names = jobs_for(connection.connector, capabilities, connection.config or {},
                         bool(connection.secrets_encrypted))
    if stream is not None:
        names = [name for name, spec in JOBS.items() if stream in (name, spec.stream)]
        if not names:
            raise click.BadParameter(f"no job or stream {stream!r}; the jobs are "
                                     f"{', '.join(JOBS)}", param_hint="--stream")
    console = _console()
    failed = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(f"connection {connection_id}", total=len(names))
        for name in names:
            progress.update(task, description=f"connection {connection_id}: {name}")
            outcome = execute(app, name, connection_id)
            progress.console.print(describe(outcome), markup=False)
            failed += outcome.status not in ("success", "skipped")
            progress.advance(task)
    if failed:
        ctx.exit(1)


def describe(outcome: Any) -> str:
    """One line for a job's outcome: its status, then its report's counts or its error."""
    text = f"{outcome.job_name:<10} {outcome.status:<11}"
    if outcome.error is not None:
        message = getattr(outcome.error, "message", None) or str(outcome.error)
        text += f" [{outcome.error_class}] {message}"
        fix = getattr(outcome.error, "fix", None)
        text += f" {fix}" if fix else ""
    if outcome.status == "rescheduled":
        text += f" (again in {outcome.delay:.0f} s: {outcome.note})"
    elif outcome.note:
        text += f" ({outcome.note})"
    report = outcome.report
    if report is not None and dataclasses.is_dataclass(report) and not isinstance(report, type):
        parts = []
        for field in dataclasses.fields(report):
            value = getattr(report, field.name)
            if field.name == "connection_id" or value is None or value is False:
                continue
            if isinstance(value, list | tuple | dict | set):
                value = len(value)
            parts.append(f"{field.name}={value}")
        text += " " + " ".join(parts)
    return text.rstrip()


def _console() -> Any:
    from rich.console import Console

    console = Console(highlight=False)
    return console if console.is_terminal else Console(width=140, highlight=False)
