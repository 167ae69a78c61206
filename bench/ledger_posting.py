"""Ledger posting: delivered rounds posted to the ledger by hub.services.ledger.Poster, as a
ratio against a bare bulk insert of the same ledger rows; and the period's statement totals
as a ratio against one bare GROUP BY; both measured in the same run and database.

Set-up (bench/ledger_support.py, not timed): one tenant, three merchants, a box whose version
has one component per merchant (weights 5/3/2), a weekly plan of four prepaid rounds with a
merchant-funded 5 % discount and a municipality-funded 3,000 won discount from round 2, two
connections (channel fee 0 and 550 bp), and --rounds delivered rounds in one month, four to a
contract, one contract per order line, one line per order, written in bulk.

A  posting: Poster(session, tenant).post_rounds(--batch) in a loop, a commit after each
   batch, until it returns 0: rows written (ledger and funding entries) per second.
   Resident memory is sampled after every batch (and tracemalloc's peak is taken with
   --tracemalloc, which slows posting).
B  baseline: the same rows read back (not timed) and inserted into empty copies of their
   tables (same columns, keys, checks, foreign keys and indexes) with a plain Core INSERT
   executemany, in chunks of about what posting wrote per batch, a commit per chunk.
C  statements: every merchant's statement figures as the hub computes them (all_totals: one
   GROUP BY, then the fee VAT, balance and payable; the lines are not rendered). Also shown:
   the bare entry_sums call.
D  baseline: SELECT merchant_id, kind, sum(amount) ... WHERE tenant_id AND period
   GROUP BY merchant_id, kind. C and D are each the best of --repeat runs.

    .venv/bin/python bench/ledger_posting.py [--rounds 1000000] [--batch 1000]
        [--database sqlite|postgresql|both] [--postgres ADMIN_URL] [--profile] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import resource
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_databases import postgres_database
from ledger_support import (
    PERIOD,
    Fixture,
    build_catalog,
    fill_rounds,
    ledger_copy,
    rss_bytes,
)
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_session_factory
from hub.migrate import upgrade
from hub.models import FundingEntry, LedgerEntry, Round, SettlementPeriod, Tenant
from hub.services.ledger import Poster, entry_sums
from hub.services.statements import all_totals

POSTING_TARGET = 0.5  # posting at least half the rate of a bare insert
STATEMENT_TARGET = 2.0  # statement totals at most twice a bare GROUP BY
MB = 1024 * 1024


@dataclass
class Posted:
    rounds: int = 0
    batches: int = 0
    entries: int = 0
    funding: int = 0
    seconds: float = 0.0
    rss_start: int = 0
    rss_peak: int = 0
    # (rounds posted, resident bytes, seconds since the start) every 50 batches
    rss_samples: list[tuple[int, int, float]] = field(default_factory=list)
    traced_peak: int | None = None


@dataclass
class Result:
    backend: str
    fixture: Fixture
    setup_seconds: float
    posted: Posted
    bare_rows: int
    bare_seconds: float
    bare_chunk: int
    statements: float
    one_call: float
    group_by: float
    merchants: int
    sums_match: bool
    maxrss: int


def post_all(factory: sessionmaker[Session], tenant_id: int, batch: int,
             trace: bool) -> Posted:
    """A: post every delivered round, a batch and a commit at a time, until none is left."""
    posted = Posted()
    gc.collect()
    posted.rss_start = posted.rss_peak = rss_bytes()
    if trace:
        tracemalloc.start()
    session = factory()
    try:
        started = time.perf_counter()
        poster = Poster(session, session.get_one(Tenant, tenant_id))
        while True:
            count = poster.post_rounds(batch)
            session.commit()
            if not count:
                break
            posted.rounds += count
            posted.batches += 1
            rss = rss_bytes()
            posted.rss_peak = max(posted.rss_peak, rss)
            if posted.batches % 50 == 1:
                posted.rss_samples.append((posted.rounds, rss,
                                           time.perf_counter() - started))
        posted.seconds = time.perf_counter() - started
        posted.rss_samples.append((posted.rounds, rss_bytes(), posted.seconds))
        if trace:
            posted.traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        posted.entries = int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)
        posted.funding = int(session.scalar(select(func.count()).select_from(FundingEntry))
                             or 0)
        left = session.scalar(select(func.count()).select_from(Round).where(
            Round.posted_at.is_(None)))
        assert not left, f"{left} rounds left unposted"
    finally:
        session.close()
    return posted


def bare_insert(engine: Engine, chunk: int) -> tuple[int, float]:
    """B: the rows posting wrote (ledger and funding entries), read back a chunk at a time
    (not timed), inserted into empty copies of their tables with a plain executemany and a
    commit per chunk (timed)."""
    rows_done, seconds = 0, 0.0
    for source in (LedgerEntry.__table__, FundingEntry.__table__):
        done, spent = _copy_rows(engine, source, chunk)
        rows_done += done
        seconds += spent
    return rows_done, seconds


def _copy_rows(engine: Engine, source: Any, chunk: int) -> tuple[int, float]:
    copy = ledger_copy(engine, source)
    columns = [column for column in source.columns if column.name != "id"]
    last, rows_done, seconds = 0, 0, 0.0
    while True:
        with engine.connect() as db:
            found = db.execute(select(source.c.id, *columns).where(source.c.id > last)
                               .order_by(source.c.id).limit(chunk)).mappings().all()
        if not found:
            break
        last = found[-1]["id"]
        rows = [{column.name: row[column.name] for column in columns} for row in found]
        started = time.perf_counter()
        with engine.begin() as db:
            db.execute(insert(copy), rows)
        seconds += time.perf_counter() - started
        rows_done += len(rows)
    with engine.begin() as db:
        copied = int(db.scalar(select(func.count()).select_from(copy)) or 0)
        copy.drop(db)
    assert copied == rows_done, f"{copied} rows in the copy, {rows_done} inserted"
    return rows_done, seconds


def statement_totals(session: Session, tenant: Tenant,
                     period: SettlementPeriod) -> dict[int, dict[str, Any]]:
    """C: every merchant's statement figures for the period as the hub computes them
    (hub/services/statements.py all_totals: one GROUP BY, then fee VAT and payable)."""
    return all_totals(session, tenant, period)


GROUP_BY = text("SELECT merchant_id, kind, sum(amount) FROM ledger_entry "
                "WHERE tenant_id = :tenant AND period = :period GROUP BY merchant_id, kind")


def best_of(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = call()
        best = min(best, time.perf_counter() - started)
    return best, value


def time_statements(factory: sessionmaker[Session], tenant_id: int,
                    repeat: int) -> tuple[float, float, float, int, bool]:
    """C, C with one entry_sums call, and D; each best of `repeat`, in fresh sessions."""
    with factory() as session:
        tenant = session.get_one(Tenant, tenant_id)
        period = session.scalars(select(SettlementPeriod).where(
            SettlementPeriod.tenant_id == tenant_id, SettlementPeriod.key == PERIOD)).one()

        def statements() -> dict[int, dict[str, Any]]:
            session.expire_all()
            return statement_totals(session, tenant, period)

        def one_call() -> dict[int, dict[str, int]]:
            return entry_sums(session, tenant_id, PERIOD)

        def group_by() -> list[Any]:
            return session.execute(GROUP_BY, {"tenant": tenant_id, "period": PERIOD}).all()

        group_by()  # warm the cache for all three alike
        c, totals = best_of(repeat, statements)
        c1, _ = best_of(repeat, one_call)
        d, rows = best_of(repeat, group_by)
        session.rollback()
    bare: dict[int, dict[str, int]] = {}
    for merchant_id, kind, amount in rows:
        bare.setdefault(int(merchant_id), {})[kind] = int(amount)
    match = set(totals) == set(bare) and all(
        {row["kind"]: row["amount"] for row in totals[m]["totals"]
         if row["kind"] != "operator_fee_vat"} == {k: v for k, v in bare[m].items() if v}
        for m in totals)
    return c, c1, d, len(totals), match


def prepare(database_url: str, rounds: int) -> tuple[Engine, sessionmaker[Session], Fixture,
                                                      float]:
    engine = make_engine(database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    fixture = fill_rounds(engine, build_catalog(factory), rounds)
    return engine, factory, fixture, time.perf_counter() - started


def run(backend: str, database_url: str, options: argparse.Namespace) -> Result:
    engine, factory, fixture, setup = prepare(database_url, options.rounds)
    print(f"  {backend}: set-up {fixture.rounds} delivered rounds, {fixture.contracts} "
          f"contracts/orders in {setup:.1f} s; posting...", flush=True)
    try:
        posted = post_all(factory, fixture.tenant_id, options.batch, options.tracemalloc)
        chunk = max(1, round((posted.entries + posted.funding) / max(1, posted.batches)))
        with engine.begin() as db:
            db.exec_driver_sql("ANALYZE")
        print(f"  {backend}: posted in {posted.seconds:.1f} s; bare insert...", flush=True)
        bare_rows, bare_seconds = bare_insert(engine, chunk)
        with engine.begin() as db:
            db.exec_driver_sql("ANALYZE")
        c, c1, d, merchants, match = time_statements(factory, fixture.tenant_id,
                                                     options.repeat)
    finally:
        engine.dispose()
    return Result(backend, fixture, setup, posted, bare_rows, bare_seconds, chunk, c, c1, d,
                  merchants, match, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def report(result: Result) -> None:
    posted = result.posted
    rate = (posted.entries + posted.funding) / posted.seconds
    bare = result.bare_rows / result.bare_seconds
    ratio = rate / bare
    print(f"  {result.backend}  ({result.fixture.rounds} rounds, batch of "
          f"{posted.rounds // max(1, posted.batches)} rounds)")
    print(f"    A posting   {rate:9.0f} rows/s     ({posted.entries} ledger entries + "
          f"{posted.funding} funding entries from {posted.rounds} rounds in "
          f"{posted.seconds:.1f} s, {posted.batches} batches; "
          f"{posted.rounds / posted.seconds:.0f} rounds/s)")
    print(f"    B bare      {bare:9.0f} rows/s     ({result.bare_rows} rows, "
          f"{result.bare_chunk} a statement and commit, in {result.bare_seconds:.1f} s)")
    verdict = "ok" if ratio >= POSTING_TARGET else "BELOW TARGET"
    print(f"    ratio A/B {ratio:6.2f}  (target >= {POSTING_TARGET}) {verdict}")
    print(f"    C statements {result.statements * 1000:8.1f} ms  ({result.merchants} merchants:"
          f" all_totals: one GROUP BY + VAT/payable; best of runs)")
    print(f"      one entry_sums call for all merchants {result.one_call * 1000:8.1f} ms")
    print(f"    D GROUP BY   {result.group_by * 1000:8.1f} ms")
    ratio_c = result.statements / result.group_by
    verdict = "ok" if ratio_c <= STATEMENT_TARGET else "ABOVE TARGET"
    print(f"    ratio C/D {ratio_c:6.2f}  (target <= {STATEMENT_TARGET}) {verdict}; "
          f"one call/D {result.one_call / result.group_by:.2f}; totals match the GROUP BY: "
          f"{'yes' if result.sums_match else 'NO'}")
    shown = posted.rss_samples[:: max(1, len(posted.rss_samples) // 6)]
    if shown[-1] != posted.rss_samples[-1]:
        shown.append(posted.rss_samples[-1])
    samples = ", ".join(f"{rounds // 1000}k: {rss / MB:.0f}" for rounds, rss, _ in shown)
    pace = ", ".join(f"{(r2 - r1) / (t2 - t1):.0f}" for (r1, _, t1), (r2, _, t2)
                     in zip(shown, shown[1:], strict=False) if t2 > t1)
    print(f"    memory: RSS during posting peak {posted.rss_peak / MB:.0f} MB (at start "
          f"{posted.rss_start / MB:.0f} MB, growth {(posted.rss_peak - posted.rss_start) / MB:.0f}"
          f" MB); by rounds posted (MB) {samples}; process ru_maxrss "
          f"{result.maxrss / MB:.0f} MB")
    print(f"    posting pace between those points (rounds/s): {pace}")
    if posted.traced_peak is not None:
        print(f"    tracemalloc peak during posting {posted.traced_peak / MB:.1f} MB "
              "(posting slowed by tracing)")


def profile(backend: str, database_url: str, options: argparse.Namespace) -> None:
    engine, factory, fixture, _ = prepare(database_url, options.rounds)
    try:
        profiler = cProfile.Profile()
        profiler.enable()
        posted = post_all(factory, fixture.tenant_id, options.batch, False)
        profiler.disable()
    finally:
        engine.dispose()
    print(f"  {backend}: {posted.rounds} rounds, {posted.entries} entries in "
          f"{posted.seconds:.1f} s under cProfile")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="rounds per post_rounds call")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"),
                        default="both")
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="server to make the throwaway PostgreSQL database through")
    parser.add_argument("--repeat", type=int, default=5, help="runs of C and D, best kept")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations during posting (slower)")
    parser.add_argument("--profile", action="store_true",
                        help="only post, under cProfile, and print where the time goes")
    options = parser.parse_args()
    backends = ("sqlite", "postgresql") if options.database == "both" else (options.database,)
    print(f"ledger posting: {options.rounds} delivered rounds, post_rounds({options.batch}) "
          "with a commit per batch vs a bare executemany of the same rows; statement totals "
          "vs one GROUP BY")
    for backend in backends:
        step = profile if options.profile else (lambda b, u, o: report(run(b, u, o)))
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="gudok-ledger-"))
            try:
                step(backend, f"sqlite:///{folder / 'bench.db'}", options)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            with postgres_database(options.postgres) as url:
                step(backend, url, options)


if __name__ == "__main__":
    main()
