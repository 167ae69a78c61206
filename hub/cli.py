"""The `gudok` command: serve, migrate, tokens, secrets and the demo."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from sqlalchemy import select

from hub.cli_settle import settle
from hub.cli_sync import sync, worker
from hub.db import session_scope
from hub.settings import SettingsError, load_settings


def _create_app() -> Flask:
    from hub import create_app

    return create_app()


class HubGroup(FlaskGroup):
    """Help with a wrong setting names it in one line (FlaskGroup would print a traceback)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            load_settings()
        except SettingsError as error:
            click.echo(f"gudok: {error}", err=True)
            return sorted(self.commands)
        return super().list_commands(ctx)


@click.group(cls=HubGroup, create_app=_create_app, add_default_commands=True,
             load_dotenv=False, set_debug_flag=False)
def cli() -> None:
    """Gudok Hub (구독 허브): the integration hub of a municipal subscription programme."""


cli.add_command(worker)
cli.add_command(sync)
cli.add_command(settle)


def _state() -> Any:
    return current_app.extensions["gudok"]


@cli.command()
@click.option("--bind", default=None, help="host:port (default: the bind setting)")
@click.option("--workers", type=int, default=None, help="gunicorn workers")
def serve(bind: str | None, workers: int | None) -> None:
    """Serve the API with gunicorn."""
    from gunicorn.app.base import BaseApplication

    settings = _state().settings
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", bind or settings.bind)
            self.cfg.set("workers", workers or settings.workers)
            self.cfg.set("accesslog", "-")

        def load(self) -> Flask:
            return app

    Server().run()


@cli.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    from hub import migrate

    engine = _state().engine
    migrate.upgrade(engine, revision)
    click.echo(f"database at {migrate.current(engine)} ({engine.url.get_backend_name()})")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ("base" empties it)."""
    from hub import migrate

    migrate.downgrade(_state().engine, revision)
    click.echo(f"database at {migrate.current(_state().engine) or 'base'}")


@cli.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--role", required=True,
              type=click.Choice(["admin", "operator", "mall", "viewer", "partner"]))
@click.option("--tenant", "tenant_code", default=None, help="tenant code (not for admin)")
@click.option("--connection", "connection_id", type=int, default=None,
              help="the partner connection a partner token speaks for (partner only)")
@click.option("--label", default=None, help="who or what the token is for")
def tokens_create(role: str, tenant_code: str | None, connection_id: int | None,
                  label: str | None) -> None:
    """Create a token and print it alone on stdout; it is not shown again."""
    from hub.services.tokens import TokenError, create_token

    try:
        with session_scope(_state().session_factory) as session:
            _row, plaintext = create_token(session, role, tenant_code, label, connection_id)
    except TokenError as error:
        raise click.UsageError(str(error)) from None
    click.echo(plaintext)


@tokens.command("list")
def tokens_list() -> None:
    """List tokens (their prefixes, never the tokens)."""
    from hub.models import ApiToken, Tenant

    with session_scope(_state().session_factory) as session:
        codes = dict(session.execute(select(Tenant.id, Tenant.code)).all())
        for row in session.scalars(select(ApiToken).order_by(ApiToken.id)):
            state = "revoked" if row.revoked_at else "active"
            click.echo(f"{row.id}\t{row.prefix}…\t{row.role}\t"
                       f"{codes.get(row.tenant_id or 0, '*')}\t{state}\t{row.label or ''}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id; it stops working at once."""
    from hub.services.tokens import revoke_token

    with session_scope(_state().session_factory) as session:
        if not revoke_token(session, token_id):
            raise click.UsageError(f"no token with id {token_id}")
    click.echo(f"token {token_id} revoked")


@cli.group()
def secrets() -> None:
    """Secrets at rest."""


@secrets.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the first key of GUDOK_SECRET_KEYS."""
    from hub.services.connections import rotate_secrets

    with session_scope(_state().session_factory) as session:
        count = rotate_secrets(session, _state().secrets)
    click.echo(f"{count} secrets re-encrypted with the first key")


@cli.command()
@click.option("--mall/--no-mall", "with_mall", default=True,
              help="also install the hub into a sandbox mall and push the catalog")
def demo(with_mall: bool) -> None:
    """Migrate, load the demo municipality (idempotent), summarise it, and run the mall."""
    from hub import migrate
    from hub.services.demo import load_demo

    state = _state()
    migrate.upgrade(state.engine)
    with session_scope(state.session_factory) as session:
        summary = load_demo(session, state.secrets)
    counts = summary.counts
    click.echo(f"Demo municipality: {summary.tenant}  [{state.engine.url.get_backend_name()}: "
               f"{state.engine.url.database}]")
    click.echo(f"  merchants  {counts['merchants']:>4}  "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts["merchants_by_tax_type"].items())))
    click.echo(f"  items      {counts['items']:>4}  vouchers {counts['vouchers']}, "
               f"tax-exempt {counts['exempt_items']}")
    click.echo(f"  boxes      {counts['boxes']:>4}  "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts["boxes_by_status"].items()))
               + f"; {counts['boxes_with_vouchers']} with tourism vouchers")
    click.echo(f"  plans      {counts['plans']:>4}")
    click.echo(f"  locations  {counts['locations']:>4}  {counts['units_on_hand']} units on hand")
    changes = ", ".join(f"{v} {k}" for k, v in sorted(summary.changes.items()))
    click.echo(f"  this run: {changes or 'nothing changed (already loaded)'}")
    if with_mall:
        _mall_demo(state)
    click.echo("Next: `gudok tokens create --tenant hanbit --role operator` for a token, "
               "`gudok serve` for the API at /api/v1 (docs at /api/v1/docs).")


def _mall_demo(state: Any) -> None:
    from rich.progress import Progress

    from connectors.saleor.sandbox.schema import reference_schema_path
    from hub.demo_mall import run_mall_demo

    schema = reference_schema_path()
    if not schema.is_file():
        click.echo(f"Mall: skipped, the sandbox mall needs Saleor's schema at {schema} "
                   "(set GUDOK_SALEOR_SCHEMA to its path)")
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with Progress(transient=True) as bar:
        task = bar.add_task("pushing boxes to the sandbox mall", total=None)
        result = run_mall_demo(app, "hanbit", progress=lambda _box: bar.advance(task))
    report = result.report
    click.echo(f"Mall: Saleor sandbox at {result.graphql_url} (connection "
               f"{result.connection_id}): app installed, token stored encrypted")
    click.echo(f"  {len(report.pushed)} boxes pushed as products with {result.variants} plan "
               f"variants and their stock ({report.outcome}"
               + (f", {len(report.skipped)} skipped" if report.skipped else "") + ")")
    click.echo(f"  {result.orders} sandbox orders -> {result.webhooks_in_inbox} signed "
               "webhooks verified into the inbox")
    if result.partners is not None:
        _partners_summary(result.partners)


def _partners_summary(partners: Any) -> None:
    for platform in partners.platforms:
        click.echo(f"Platform: {platform.name} (sandbox, connection {platform.connection_id})"
                   f": {platform.offered} boxes offered, {platform.fed} read from the feed, "
                   f"{platform.links_reported} listing links reported")
        click.echo(f"  {platform.notifications} signed notifications received and verified; "
                   f"{platform.orders} orders placed and {platform.cancelled} cancelled -> "
                   f"{platform.webhooks_in_inbox} signed webhooks in the inbox")
    click.echo(f"  mall products linking to both platforms: "
               f"{partners.mall_products_linking_both}")
    link_outs = partners.link_outs
    click.echo(f"  platform's own product approved and listed in the mall: "
               f"{partners.link_out_url or 'not listed'} ({len(link_outs.listed)} listed, "
               f"{len(link_outs.unchanged)} unchanged, {len(link_outs.removed)} removed)")
    if partners.sync is not None:
        _sync_summary(partners.sync)
    if partners.month is not None:
        from hub.demo_month import describe_month

        for line in describe_month(partners.month):
            click.echo(line)


def _sync_summary(sync: Any) -> None:
    orders = ", ".join(f"{name} {count}" for name, count in sync.orders.items())
    click.echo(f"Sync: the queued jobs ran until none was left "
               f"({'idle' if sync.jobs_idle else 'still busy after 120 s'}); new orders: {orders}")
    channels = ", ".join(f"{name} {sync.before.get(name)} -> {value}"
                         for name, value in sync.after.items())
    click.echo(f"  availability of {sync.box_code}: hub {sync.hub_before} -> {sync.hub_after};"
               f" as each channel shows it: {channels}")
    _short_health(sync.health)


def _short_health(healths: list[dict[str, Any]]) -> None:
    """One line per connection: what `gudok sync status` shows at length."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Sync health", title_justify="left")
    for column in ("connection", "status", "circuit", "inbox pending/dead",
                   "outbox pending/dead", "streams ok", "last error"):
        table.add_column(column)
    for health in healths:
        streams = health["streams"]
        ok = sum(1 for s in streams if s["last_success_at"] and not s["last_error"])
        last = health.get("last_error")
        table.add_row(
            f"#{health['connection_id']} {health['name']}", health["status"],
            health["circuit"]["state"],
            f"{health['inbox']['pending']}/{health['inbox']['dead']}",
            f"{health['outbox']['pending']}/{health['outbox']['dead']}",
            f"{ok}/{len(streams)}",
            f"[{last['class']}] {last['message']}" if last else "-")
    console = Console(highlight=False)
    (console if console.is_terminal else Console(width=150, highlight=False)).print(table)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        os.environ.setdefault("GUDOK_ENVIRONMENT", "demo")
        # The demo's sandbox mall listens on loopback, and answers as fast as it is asked.
        os.environ.setdefault("GUDOK_OUTBOUND_ALLOW_HOSTS", "127.0.0.1,::1,localhost")
        os.environ.setdefault("GUDOK_OUTBOUND_ALLOW_ONLY", "true")  # and nowhere else
        os.environ.setdefault("GUDOK_HTTP_RATE_LIMIT_PER_SECOND", "500")
        os.environ.setdefault("GUDOK_HTTP_RATE_LIMIT_BURST", "500")
        os.environ.setdefault("GUDOK_LOG_LEVEL", "WARNING")
    try:
        cli.main(prog_name="gudok")
    except SettingsError as error:
        click.echo(f"gudok: {error}", err=True)
        sys.exit(2)
