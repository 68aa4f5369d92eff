"""Pieces of bench_earn.py: the reference workloads, the purchase client, bulk history, EXPLAIN."""

import asyncio
import random
import re
import sqlite3
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
from bench_replay import pgbench_tps
from psycopg import RawCursor
from rawhttp import Connection
from sqlalchemy import event, text

from loyalty.cli.seed_cmd import card_number_for
from loyalty.db import Database
from loyalty.pos.raw import Raw

CATALOGUE = (
    ("latte", "coffee", "3.40"),
    ("espresso", "coffee", "2.20"),
    ("tea", "tea", "2.80"),
    ("cheesecake", "cake", "4.20"),
    ("croissant", "pastry", "1.90"),
    ("rye", "bread", "3.10"),
    ("beans-1kg", "beans", "18.90"),
    ("mug", "merch", "12.00"),
)


# --- references ------------------------------------------------------------------------------


def pgbench(
    binary: str, dsn_args: list[str], database: str, *, scale: int, clients: int, seconds: int
) -> float:
    """pgbench's built-in tpcb-like script; returns TPS without the initial connection time."""
    subprocess.run(
        [binary, *dsn_args, "-i", "-q", "-s", str(scale), database], check=True, capture_output=True
    )
    result = subprocess.run(
        [binary, *dsn_args, "-c", str(clients), "-j", "2", "-T", str(seconds), "-M", "prepared", database],
        check=True,
        capture_output=True,
        text=True,
    )
    return pgbench_tps(result)


def sqlite_tpcb(path: Path, *, accounts: int, seconds: float) -> float:
    """A TPC-B-like loop on plain sqlite3 (WAL, synchronous=NORMAL like the app), one connection."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(
        "CREATE TABLE branches(bid INTEGER PRIMARY KEY, bbalance INTEGER);"
        "CREATE TABLE tellers(tid INTEGER PRIMARY KEY, bid INTEGER, tbalance INTEGER);"
        "CREATE TABLE accounts(aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER);"
        "CREATE TABLE history(tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TEXT);"
    )
    db.execute("BEGIN")
    db.execute("INSERT INTO branches VALUES (1, 0)")
    db.executemany("INSERT INTO tellers VALUES (?, 1, 0)", [(t,) for t in range(1, 11)])
    db.executemany("INSERT INTO accounts VALUES (?, 1, 0)", [(a,) for a in range(1, accounts + 1)])
    db.execute("COMMIT")
    done, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        aid, tid, delta = random.randint(1, accounts), random.randint(1, 10), random.randint(-5000, 5000)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE accounts SET abalance = abalance + ? WHERE aid = ?", (delta, aid))
        db.execute("SELECT abalance FROM accounts WHERE aid = ?", (aid,)).fetchone()
        db.execute("UPDATE tellers SET tbalance = tbalance + ? WHERE tid = ?", (delta, tid))
        db.execute("UPDATE branches SET bbalance = bbalance + ? WHERE bid = 1", (delta,))
        db.execute("INSERT INTO history VALUES (?, 1, ?, ?, datetime('now'))", (tid, aid, delta))
        db.execute("COMMIT")
        done += 1
    elapsed = time.perf_counter() - start
    db.close()
    return done / elapsed


# --- purchases through the POS API -----------------------------------------------------------


@dataclass
class RunResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, successful purchases only
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def summary(self) -> str:
        errors = sum(self.errors.values())
        detail = f" {self.errors}" if errors else ""
        return (
            f"{self.rate:8.1f} purchases/s  p50 {self.percentile(0.50):6.1f} ms"
            f"  p95 {self.percentile(0.95):6.1f} ms  p99 {self.percentile(0.99):6.1f} ms"
            f"  mean {statistics.fmean(self.latencies or [0]) * 1000:6.1f} ms"
            f"  ok {self.ok}  errors {errors}{detail}"
        )


def purchase_body(members: int) -> dict[str, Any]:
    lines = random.sample(CATALOGUE, k=random.randint(1, 4))
    items: list[dict[str, Any]] = [
        {"sku": s, "category": c, "price": p, "quantity": random.randint(1, 3)} for s, c, p in lines
    ]
    total = sum((Decimal(i["price"]) * i["quantity"] for i in items), Decimal(0))
    return {
        "code": card_number_for(random.randrange(members)),
        "receipt_id": f"B-{uuid.uuid4().hex[:20]}",
        "store": "BENCH-1",
        "total": str(total),
        "items": items,
    }


async def _purchases(base_url: str, token: str, members: int, connections: int, seconds: float) -> RunResult:
    """`connections` tills, each on its own kept-alive connection, booking back to back."""
    host, _, port = base_url.removeprefix("http://").partition(":")
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def one_till() -> None:
        connection = Connection(host, int(port), {"Authorization": f"Bearer {token}"})
        try:
            while time.perf_counter() < deadline:
                body = purchase_body(members)
                started = time.perf_counter()
                try:
                    status, _ = await asyncio.wait_for(
                        connection.post_json(
                            "/api/v1/pos/purchases", body, {"Idempotency-Key": uuid.uuid4().hex}
                        ),
                        timeout=30,
                    )
                    outcome = str(status)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    outcome = type(exc).__name__
                    await connection.close()
                if outcome == "200":
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[outcome] = errors.get(outcome, 0) + 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_till() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return RunResult(seconds=elapsed, latencies=latencies, errors=errors)


def run_purchases(base_url: str, token: str, *, members: int, connections: int, seconds: float) -> RunResult:
    return asyncio.run(_purchases(base_url, token, members, connections, seconds))


def cashier_token(base_url: str, email: str, password: str) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": email, "password": password, "scope": "staff"}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# --- synthetic history -----------------------------------------------------------------------


def ledger_count(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one())


def add_history(database: Database, *, target_entries: int, members: int, first_member_id: int) -> int:
    """Grow ledger_entries to `target_entries` with old earn lots, plus their events and awards.

    Each synthetic purchase has one event, two rule awards and two ledger lots, spread over the
    last 24 months; balances are then recomputed so that `loyalty ledger verify` still holds.
    """
    missing = target_entries - ledger_count(database)
    purchases = max(0, missing // 2)
    if purchases == 0:
        return 0
    now = datetime.now(UTC)
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = not database.is_sqlite
        batch = 50_000
        for offset in range(0, purchases, batch):
            if not postgres:  # the raw connection is in autocommit mode: one transaction per batch
                cursor.execute("BEGIN IMMEDIATE")
            events, awards, entries = [], [], []
            for n in range(offset, min(offset + batch, purchases)):
                member_id = first_member_id + random.randrange(members)
                at = now - timedelta(days=random.uniform(2, 730))
                key = f"hist-{uuid.uuid4().hex}"
                points = random.randint(2, 40)
                events.append((member_id, "purchase", key, key, at, points * 100, "{}", at))
                for rule, share in (("base_points", points), ("history_bonus", 5)):
                    entries.append(
                        (
                            member_id,
                            "earn",
                            share,
                            "available",
                            key,
                            f"{key}:{rule}",
                            "0" * 64,
                            rule,
                            "purchase",
                            "synthetic history",
                            share,
                            at,
                            at,
                            at,
                        )
                    )
                    # A negative event id: no real event's awards are ever mixed with these.
                    awards.append((member_id, -(n + 1), rule, share, "synthetic history", at))
            _bulk(
                cursor,
                postgres,
                "member_events",
                "member_id, event_type, reference, idempotency_key, occurred_at, amount_cents, data,"
                " created_at",
                events,
            )
            _bulk(
                cursor, postgres, "rule_awards", "member_id, event_id, rule, points, why, occurred_at", awards
            )
            _bulk(
                cursor,
                postgres,
                "ledger_entries",
                "member_id, kind, points, status, reference, idempotency_key, request_hash, rule, event_type,"
                " description, lot_remaining, available_at, occurred_at, created_at",
                entries,
            )
            _commit(raw, cursor, postgres)
        if not postgres:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(
            "INSERT INTO member_balances (member_id, balance, debt, updated_at)"
            " SELECT DISTINCT member_id, 0, 0, CURRENT_TIMESTAMP FROM ledger_entries WHERE true"
            " ON CONFLICT (member_id) DO NOTHING"
        )
        cursor.execute(
            "UPDATE member_balances SET balance = s.total FROM"
            " (SELECT member_id, sum(points) AS total FROM ledger_entries GROUP BY member_id) AS s"
            " WHERE s.member_id = member_balances.member_id"
        )
        _commit(raw, cursor, postgres)
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return purchases * 2


def _commit(raw: Any, cursor: Any, postgres: bool) -> None:
    if postgres:
        raw.commit()
    else:
        cursor.execute("COMMIT")


def _bulk(cursor: Any, postgres: bool, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    if postgres:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(rows[0]))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            [tuple(_sqlite_value(v) for v in row) for row in rows],
        )


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy's DateTime stores it on SQLite (UTC, no offset), so comparisons agree."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


# --- EXPLAIN of the statements one purchase runs ---------------------------------------------


def hot_path_plans(database: Database, book_one: Any) -> list[tuple[str, str, bool]]:
    """Run one purchase in a rolled-back transaction, then EXPLAIN each statement it issued.

    Returns (statement, plan, uses_index_or_key). A full scan of a table is flagged; so is any
    plan without an index, except single-row inserts.
    """
    captured: list[tuple[str, Any, bool]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not many and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
            captured.append((statement, parameters, conn is None))

    event.listen(database.engine, "before_cursor_execute", capture)
    # The till's purchase runs its own statements on the DBAPI connection (PostgreSQL: `$1`
    # placeholders, for psycopg's RawCursor).
    Raw.trace = lambda sql, parameters: capture(None, None, sql, parameters, None, False)
    try:
        book_one()
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
        Raw.trace = None
    plans = []
    seen = set()
    raw = database.engine.raw_connection()
    try:
        orm_cursor = raw.cursor()
        # Raw's own statements carry `$1` placeholders on PostgreSQL: only RawCursor takes them.
        raw_cursor = orm_cursor if database.is_sqlite else RawCursor(cast(Any, raw.driver_connection))
        for statement, parameters, by_raw in captured:
            cursor = raw_cursor if by_raw else orm_cursor
            shape = re.sub(r"\s+", " ", statement).strip()
            if shape in seen or shape.upper().startswith(("SAVEPOINT", "RELEASE")):
                continue
            seen.add(shape)
            prefix = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN "
            cursor.execute(prefix + statement, parameters)
            rows = cursor.fetchall()
            plan = "\n".join(str(row[-1]) if database.is_sqlite else str(row[0]) for row in rows)
            indexed = _uses_index(plan, database.is_sqlite)
            if not indexed:
                plan += "\n" + _why_scanned(cursor, database.is_sqlite, statement, parameters, plan)
            plans.append((shape, plan, indexed))
        raw.rollback()
    finally:
        raw.close()
    return plans


def _why_scanned(cursor: Any, sqlite: bool, statement: str, parameters: Any, plan: str) -> str:
    """For a flagged plan: how many rows the scanned tables hold, and on PostgreSQL whether an
    index path exists at all (the plan with sequential scans switched off), so that a planner
    that rightly scans a near-empty table can be told from a missing index."""
    tables = re.findall(r"(?:SCAN|Seq Scan on) (\w+)", plan)
    sizes = []
    known = set(_table_names(cursor, sqlite))
    for table in dict.fromkeys(tables):
        if table not in known:  # a subquery's alias
            continue
        cursor.execute(f"SELECT count(*) FROM {table}")
        sizes.append(f"{table}: {cursor.fetchone()[0]:,} rows")
    note = "(" + ", ".join(sizes) + ")"
    if not sqlite:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        forced = "\n".join(str(row[0]) for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        note += " with seq scans off: " + ("uses an index" if _uses_index(forced, False) else "NO index path")
    return note


def _table_names(cursor: Any, sqlite: bool) -> list[str]:
    if sqlite:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return [str(row[0]) for row in cursor.fetchall()]


def _uses_index(plan: str, sqlite: bool) -> bool:
    for line in plan.splitlines():
        line = line.strip().lstrip("->").strip()
        if sqlite and line.startswith("SCAN") and "USING" not in line and "CONSTANT ROW" not in line:
            return False
        if not sqlite and "Seq Scan" in line:
            return False
    return True
