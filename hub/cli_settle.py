"""`gudok settle`: post a tenant's waiting money events, show its statements for a period,
and close the period on request, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from hub.db import session_scope
from hub.models import Tenant


@click.command()
@click.option("--tenant", "tenant_code", required=True, help="the tenant's code, e.g. hanbit")
@click.option("--period", required=True, help="2026-11 (monthly) or 2026-W48 (weekly)")
@click.option("--close", is_flag=True, help="close the period: post fee VAT and carry-forwards "
                                            "and freeze its statements")
@click.option("--batch", type=click.IntRange(min=1, max=100000), default=1000,
              show_default=True, help="events posted per transaction")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="also write each statement as CSV and PDF here")
@with_appcontext
def settle(tenant_code: str, period: str, close: bool, batch: int,
           out_dir: Path | None) -> None:
    """Post, compute (and with --close, close) one period's merchant statements."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from jobs.settlement import settle as run
    from jobs.settlement import waiting

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.code == tenant_code))
        if tenant is None:
            raise click.BadParameter(f"no tenant {tenant_code!r}", param_hint="--tenant")
        tenant_id = tenant.id
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(f"{tenant_code} {period}: posting", total=waiting(tenant_id))
        try:
            report = run(tenant_id, period, close=close, batch=batch,
                         progress=lambda done: progress.advance(task, done))
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--period") from None
    state = "closed" if report.closed else "open (statements are drafts)"
    click.echo(f"{tenant_code} {period}: {sum(report.posted.values())} events posted; "
               f"period {state}" + (f", digest {report.digest[:12]}" if report.digest else ""))
    for line in write_statements(tenant_id, period, out_dir):
        click.echo(line)


def write_statements(tenant_id: int, period: str, out_dir: Path | None) -> list[str]:
    """One line per merchant (payable, carried forward), and its CSV and PDF when asked."""
    from hub.services.periods import period_row
    from hub.services.statement_render import render_statement_csv, render_statement_pdf
    from hub.services.statements import statements_for

    lines = []
    with session_scope(current_app.extensions["gudok"].session_factory) as session:
        tenant = session.get_one(Tenant, tenant_id)
        for statement in statements_for(session, tenant, period_row(session, tenant, period)):
            merchant = statement["merchant"]
            lines.append(f"  {merchant['name']} (merchant {merchant['id']}): payable "
                         f"{statement['payable']:,} KRW, carried forward "
                         f"{statement.get('carried_forward', 0):,} KRW, "
                         f"{len(statement['lines'])} lines, {statement['status']}")
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                stem = out_dir / f"statement-{tenant.code}-{period}-{merchant['id']}"
                stem.with_suffix(".csv").write_bytes(render_statement_csv(statement))
                stem.with_suffix(".pdf").write_bytes(render_statement_pdf(statement))
    return lines
