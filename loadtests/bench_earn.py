"""Benchmark: purchases through the POS API against the database's own TPC-B-like speed.

    python loadtests/bench_earn.py [--quick] [--backend postgresql|sqlite|both]

PostgreSQL: seeds 100,000 members into a database of its own (bench_loyalty), serves with 2
workers, runs pgbench's tpcb-like script on the same server (database bench_pgbench), then 32
concurrent connections book purchases with the demo program for 30 s, each with its own
Idempotency-Key, for members of the first half. SQLite: the same against a file, with a plain
sqlite3 TPC-B-like loop as the reference. Then it grows the ledger from ~10,000 to 1,000,000
entries (bulk COPY/executemany of old history of the other half's members, so that the buyers'
own history stays as it was and the two runs differ in table size alone) and measures again,
verifies the ledger, and prints EXPLAIN of the statements one purchase runs. On PostgreSQL it
then replays the purchase's own statements with pgbench, without the app (bench_replay.py), and
prints the CPU per purchase that 50% of pgbench leaves on this machine. It prints figures;
it is not a test and asserts nothing. `--quick` is smaller (20,000 members, 10 s runs, 100,000
entries for the second size) and says so.
"""

import argparse
import contextlib
import os
import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_earn_parts import (  # noqa: E402
    RunResult,
    add_history,
    cashier_token,
    hot_path_plans,
    ledger_count,
    pgbench,
    purchase_body,
    run_purchases,
    sqlite_tpcb,
)
from bench_replay import capture, replay  # noqa: E402
from harness import (  # noqa: E402
    OUT,
    free_port,
    ledger_verify,
    load_demo_program,
    migrate,
    server_env,
    start_server,
    stop_server,
)

from loyalty.cli.seed_cmd import SEED_STAFF_PASSWORD, seed_members, seed_staff  # noqa: E402
from loyalty.clock import SystemClock  # noqa: E402
from loyalty.db import Database  # noqa: E402
from loyalty.settings import Settings  # noqa: E402

CONNECTIONS = 32
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


@dataclass
class Size:
    members: int  # seeded; purchases go to the first half (Size.buyers), see bench_backend
    seconds: float
    small_entries: int
    large_entries: int
    pgbench_scale: int
    warmup: float

    @property
    def buyers(self) -> int:
        return self.members // 2


FULL = Size(
    members=100_000, seconds=30, small_entries=10_000, large_entries=1_000_000, pgbench_scale=32, warmup=5
)
QUICK = Size(
    members=20_000, seconds=10, small_entries=10_000, large_entries=100_000, pgbench_scale=8, warmup=3
)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def server_processes(server: Any) -> list[psutil.Process]:
    root = psutil.Process(server.pid)
    return [root, *root.children(recursive=True)]


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]


def tills_per_worker(processes: list[psutil.Process], port: int, workers: int) -> str:
    """How the tills' kept-alive connections are spread over the server's workers, e.g. "16/16"."""
    counts = []
    for process in processes:
        try:
            held = sum(1 for c in process.net_connections(kind="tcp") if c.laddr.port == port and c.raddr)
        except psutil.Error:
            continue
        if held:
            counts.append(held)
    counts += [0] * (workers - len(counts))
    return "/".join(str(count) for count in sorted(counts, reverse=True))


def measured(
    label: str, database: Database, base_url: str, token: str, size: Size, server: Any, first_id: int,
    workers: int,
) -> dict[str, Any]:
    entries = ledger_count(database)
    with database.engine.connect() as connection:
        own = int(connection.execute(
            text("SELECT count(*) FROM ledger_entries WHERE member_id BETWEEN :a AND :b"),
            {"a": first_id, "b": first_id + size.buyers - 1},
        ).scalar_one())  # fmt: skip
    app = server_processes(server)
    db = postgres_processes() if not database.is_sqlite else []
    me = [psutil.Process()]
    before = (cpu_seconds(app), cpu_seconds(db), cpu_seconds(me))
    port = int(base_url.rpartition(":")[2])
    split: list[str] = []

    def look() -> None:  # once the tills have connected
        split.append(tills_per_worker(app, port, workers))

    looked = threading.Timer(min(2.0, size.seconds / 2), look)
    looked.start()
    result = run_purchases(
        base_url, token, members=size.buyers, connections=CONNECTIONS, seconds=size.seconds
    )
    looked.join()
    after = (cpu_seconds(app), cpu_seconds(db), cpu_seconds(me))
    per = [(b - a) * 1000 / max(result.ok, 1) for a, b in zip(before, after, strict=True)]
    print(
        f"  {label} (ledger at {entries:,} entries, {own / size.buyers:.1f} per buying member):"
        f" {result.summary()}"
    )
    print(
        f"    CPU per purchase: app {per[0]:.2f} ms, database server {per[1]:.2f} ms,"
        f" load client {per[2]:.2f} ms; tills per worker {split[0] if split else '?'}"
    )
    if database.is_sqlite:  # settle() emptied it; writers start it over past RESTART_WAL_PAGES
        wal = Path(f"{database.engine.url.database}-wal")
        print(f"    WAL file after the run: {wal.stat().st_size / 2**20 if wal.exists() else 0:.1f} MB")
    return {"entries": entries, "result": result, "cpu": per}


def prepare(url: str, size: Size) -> tuple[Settings, Database, int]:
    settings = Settings(database_url=url, environment="development", mail_dir=OUT / "mail")
    database = Database(url)
    started = time.perf_counter()
    print(f"  {migrate(settings, database)}")
    print(f"  {load_demo_program(settings)}")
    now = SystemClock().now()
    seed_staff(database, now=now)
    seed_members(database, count=size.members, now=now, with_email=False)
    with database.engine.connect() as connection:
        first_id = int(
            connection.execute(text("SELECT min(id) FROM members WHERE enrolled_via = 'seed'")).scalar_one()
        )
    print(f"  seeded {size.members:,} members in {time.perf_counter() - started:.1f} s")
    return settings, database, first_id


def book_in_rolled_back_session(database: Database, settings: Settings, members: int) -> None:
    from loyalty.pos import purchase as purchase_flow
    from loyalty.pos.schemas import PurchaseIn

    with Session(database.engine) as session:
        body = PurchaseIn(**purchase_body(members))
        purchase_flow.book_purchase(
            session,
            body=body,
            key="explain-" + body.receipt_id,
            staff_id=None,
            now=SystemClock().now(),
            settings=settings,
        )
        session.rollback()


def settle(database: Database) -> float:
    """After a load, before a measurement: VACUUM (ANALYZE) and CHECKPOINT on PostgreSQL (what
    autovacuum would do soon anyway, and pgbench -i does for its own tables); a WAL checkpoint
    on SQLite (no ANALYZE: the app never runs it, so plans stay the app's). Otherwise the work
    the load leaves behind runs during the measurement (a checkpoint of the 1M-row load, spread
    over minutes, once cost a quarter of the purchases; autovacuum of freshly seeded tables can
    run as well)."""
    started = time.perf_counter()
    if database.is_sqlite:
        with contextlib.closing(sqlite3.connect(str(database.engine.url.database), timeout=30)) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    else:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
            connection.exec_driver_sql("CHECKPOINT")
    return time.perf_counter() - started


def bench_backend(
    name: str, url: str, size: Size, workers: int, reference: tuple[str, float],
    pgbench_at: list[str] | None = None,
) -> None:  # fmt: skip
    settings, database, first_id = prepare(url, size)
    added = add_history(
        database, target_entries=size.small_entries, members=size.members, first_member_id=first_id
    )
    print(f"  history: {added:,} synthetic ledger entries to start near {size.small_entries:,}")
    print(f"  settled after seeding (vacuum/analyze/checkpoint): {settle(database):.1f} s")
    env = server_env(url)
    port = free_port()
    log = OUT / f"bench-{name}-server.log"
    server = start_server(env, port, workers=workers, log=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        token = cashier_token(base_url, "cashier@seed.example", SEED_STAFF_PASSWORD)
        run_purchases(base_url, token, members=size.buyers, connections=CONNECTIONS, seconds=size.warmup)
        # The warm-up's receipts and keys fill tables that were empty when last analysed, where
        # PostgreSQL's plans would otherwise scan them whole until autovacuum analyses them.
        print(f"  settled after the warm-up: {settle(database):.1f} s")
        small = measured("purchases", database, base_url, token, size, server, first_id, workers)
        started = time.perf_counter()
        # The table grows by the other half's history: the buyers keep theirs, so the two runs
        # differ in table size alone (a member's own open lots are summed on every purchase).
        added = add_history(
            database, target_entries=size.large_entries, members=size.members - size.buyers,
            first_member_id=first_id + size.buyers,
        )  # fmt: skip
        print(
            f"  history: {added:,} synthetic ledger entries bulk-inserted"
            f" in {time.perf_counter() - started:.0f} s"
        )
        print(f"  settled after the bulk load (vacuum/analyze/checkpoint): {settle(database):.1f} s")
        large = measured("purchases", database, base_url, token, size, server, first_id, workers)
    finally:
        stop_server(server)
    print("  ledger verify:", end=" ", flush=True)
    verified = ledger_verify(env) == 0
    report(name, reference, small["result"], small, large, verified, workers, size)
    print("\n  EXPLAIN of every statement one purchase runs (one rolled-back purchase at the larger size):")
    plans = hot_path_plans(database, lambda: book_in_rolled_back_session(database, settings, size.buyers))
    for statement, plan, indexed in plans:
        mark = "index" if indexed else "NO INDEX"
        print(f"  [{mark}] {statement[:150]}")
        lines = plan.splitlines()
        for line in lines[:6] if indexed else [*lines[:6], "...", lines[-1]]:  # the last: why scanned
            print(f"        {line}")
    unindexed = [s for s, _, ok in plans if not ok]
    print(f"  hot-path statements: {len(plans)}, without an index: {len(unindexed)}")
    if pgbench_at is not None:
        ceiling(database, settings, size, first_id, pgbench_at, reference[1], small["cpu"])
    database.dispose()


def ceiling(
    database: Database, settings: Settings, size: Size, first_id: int, pgbench_at: list[str], tps: float,
    cpu: list[float],
) -> None:  # fmt: skip
    """What PostgreSQL alone does with the purchase's statements (loadtests/bench_replay.py), and
    the CPU per purchase that 50% of pgbench leaves on this machine's cores."""
    shapes = capture(database, settings, lambda: purchase_body(size.buyers), 40)
    buyers = (first_id, first_id + size.buyers - 1)
    binary, *dsn_args = pgbench_at
    print(f"\n  the purchase's SQL alone, replayed by pgbench ({len(shapes)} purchases' statements, no app):")
    for clients, per in ((2, 16), (CONNECTIONS, 1)):
        rate, failed = replay(
            binary, dsn_args, "bench_loyalty", shapes, members=buyers, clients=clients, per_transaction=per,
            seconds=int(size.seconds),
        )  # fmt: skip
        print(
            f"    {per} per transaction on {clients} connections: {rate:,.0f} purchases/s"
            f" = {rate / tps:.0%} of pgbench; failed transactions {failed}"
        )
    budget = (os.cpu_count() or 1) * 1000 / (0.5 * tps)
    app, server, client = cpu
    print(
        f"  at 50% of pgbench ({0.5 * tps:,.0f}/s) the {os.cpu_count()} cores give a purchase {budget:.2f} ms"
        f" of CPU in all; measured at the smaller size: database {server:.2f}, app {app:.2f},"
        f" load client {client:.2f} ms"
    )


def report(
    name: str,
    reference: tuple[str, float],
    main: RunResult,
    small: dict[str, Any],
    large: dict[str, Any],
    verified: bool,
    workers: int,
    size: Size,
) -> None:
    ref_name, ref_tps = reference
    ratio = main.rate / ref_tps
    print(f"\n  == {name}: {workers} worker(s), {CONNECTIONS} connections, {size.seconds:.0f} s per run ==")
    print(f"  reference {ref_name}: {ref_tps:,.0f} TPS")
    print(f"  purchases via the POS API: {main.rate:,.1f}/s = {ratio:.1%} of the reference")
    print(
        f"  latency p50 {main.percentile(0.5):.1f} ms, p95 {main.percentile(0.95):.1f} ms, "
        f"p99 {main.percentile(0.99):.1f} ms; errors {sum(main.errors.values())}"
    )
    if name == "postgresql":
        print(
            "  target >= 50% of pgbench: "
            + ("met" if ratio >= 0.5 else f"MISSED (needs {0.5 * ref_tps:,.0f}/s)")
        )
    else:
        print(f"  target >= 1,000 purchases/s: {'met' if main.rate >= 1000 else 'MISSED'}")
    print(f"  target p99 <= 50 ms: {'met' if main.percentile(0.99) <= 50 else 'MISSED'}")
    print(f"  target zero errors: {'met' if not main.errors else 'MISSED'}; ledger verified: {verified}")
    s, lg = small["result"], large["result"]
    print(
        f"  cost per purchase at {small['entries']:,} vs {large['entries']:,} ledger entries: "
        f"{s.rate:,.1f}/s vs {lg.rate:,.1f}/s ({lg.rate / max(s.rate, 1e-9):.2f}x),"
        f" p50 {s.percentile(0.5):.1f} vs "
        f"{lg.percentile(0.5):.1f} ms, CPU {sum(small['cpu'][:2]):.2f} vs {sum(large['cpu'][:2]):.2f} ms"
    )


def postgresql(size: Size) -> None:
    print("\n### PostgreSQL")
    binary = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    admin = create_engine(f"{PG_ADMIN_URL}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for database in ("bench_loyalty", "bench_pgbench"):  # ours only; never the test database
            connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {database}"))
        version = connection.execute(text("SHOW server_version")).scalar_one()
    admin.dispose()
    print(
        f"  server {version}; pgbench tpcb-like, scale {size.pgbench_scale}, {CONNECTIONS} clients, "
        f"{size.seconds:.0f} s ..."
    )
    dsn_args = ["-h", "127.0.0.1", "-U", "postgres"]
    tps = pgbench(
        binary,
        dsn_args,
        "bench_pgbench",
        scale=size.pgbench_scale,
        clients=CONNECTIONS,
        seconds=int(size.seconds),
    )
    print(f"  pgbench: {tps:,.0f} TPS")
    bench_backend(
        "postgresql", f"{PG_ADMIN_URL}/bench_loyalty", size, 2, ("pgbench tpcb-like", tps),
        pgbench_at=[binary, *dsn_args],
    )  # fmt: skip


def sqlite(size: Size, workers: int) -> None:
    print("\n### SQLite")
    OUT.mkdir(parents=True, exist_ok=True)
    tps = sqlite_tpcb(OUT / "bench-tpcb.db", accounts=size.members, seconds=size.seconds)
    print(f"  plain sqlite3 TPC-B-like loop ({size.members:,} accounts, one connection): {tps:,.0f} TPS")
    path = OUT / "bench-loyalty.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    bench_backend("sqlite", f"sqlite:///{path}", size, workers, ("sqlite3 TPC-B-like loop", tps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller and shorter (about 2 minutes per backend)"
    )
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument(
        "--sqlite-workers",
        type=int,
        default=1,
        help="server processes for SQLite (default 1: writers of several processes"
        " wait in SQLite's busy loop)",
    )
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"bench_earn: {'QUICK (reduced sizes) ' if args.quick else ''}{size};"
        f" {os.cpu_count()} CPUs shared by server, database and load client"
    )
    if args.backend in ("postgresql", "both"):
        postgresql(size)
    if args.backend in ("sqlite", "both"):
        sqlite(size, args.sqlite_workers)


if __name__ == "__main__":
    main()
