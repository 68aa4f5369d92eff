"""The purchase's own SQL replayed by pgbench, with no HTTP, no Python and no rules: the most
PostgreSQL can give the till on this machine, for bench_earn to print beside pgbench's tpcb-like.

Real purchases are booked in rolled-back sessions while loyalty.pos.raw.Raw.trace records their
statements; each becomes a pgbench script with its values written in, except the member (a
random seeded member per purchase) and the receipt id (a random number per purchase, in every
key and reference built from it). Each purchase is booked twice, for two members, so that a
value is taken for the member only where it is the member id in both (a basket total of the same
number as the id stays a total). The scripts book 16 purchases per transaction on 2 connections,
as the server's two workers do with their batches, and one per transaction on 32 connections.
The replay commits real rows into the benchmark's database: run it after the ledger is verified.
"""

import random
import re
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from loyalty.clock import SystemClock
from loyalty.db import Database
from loyalty.pos import purchase as purchase_flow
from loyalty.pos.raw import Raw
from loyalty.pos.schemas import PurchaseIn
from loyalty.settings import Settings

PER_BATCH = 16
_PLACEHOLDER = re.compile(r"\$(\d+)")


def _literal(value: Any, *, member: bool, receipt: str) -> str:
    if member:
        return "CAST(:m AS BIGINT)"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return f"CAST('{value.isoformat()}' AS TIMESTAMPTZ)"
    string = str(value).replace("'", "''")
    # pgbench takes `:name` for a variable even inside a string literal: write the colon escaped.
    quoted = (
        "E'" + string.replace("\\", "\\\\").replace(":", "\\x3a") + "'"
        if re.search(r":[A-Za-z_]", string)
        else f"'{string}'"
    )
    return f"replace({quoted}, '{receipt}', CAST(:k AS TEXT))" if receipt in string else quoted


Traced = list[tuple[str, tuple[Any, ...]]]


def _traced(database: Database, settings: Settings, body: dict[str, Any], now: datetime) -> Traced:
    statements: Traced = []
    Raw.trace = lambda sql, params: statements.append((sql, params))
    try:
        with Session(database.engine) as session:
            purchase_flow.book_purchase(
                session, body=PurchaseIn(**body), key="replay-" + body["receipt_id"], staff_id=None,
                now=now, settings=settings,
            )  # fmt: skip
            session.rollback()
    finally:
        Raw.trace = None
    return statements


def _rows_by_key(sql: str, receipt: str) -> str:
    """The receipt's and the key's row are updated by the id their claim returned, which a
    rolled-back purchase has no more: by their unique receipt id and key instead (before the
    values are written in, so that no id is ever taken for anything else)."""
    by_receipt = f"replace('{receipt}', '{receipt}', CAST(:k AS TEXT))"
    sql = re.sub(
        r"(UPDATE pos_receipts SET response = \$\d+) WHERE id = \$\d+",
        lambda found: f"{found.group(1)} WHERE receipt_id = {by_receipt}", sql,
    )  # fmt: skip
    return re.sub(
        r"(UPDATE idempotency_records SET status_code = \$\d+, response = \$\d+) WHERE id = \$\d+",
        lambda found: f"{found.group(1)} WHERE scope = 'pos.purchase' AND key = 'replay-' || {by_receipt}",
        sql,
    )  # fmt: skip


def _written(sql: str, params: tuple[Any, ...], members: list[bool], receipt: str) -> str:
    """A recorded statement with its values written in (`:m`, `:k` where they vary)."""
    sql = _rows_by_key(sql.replace("m.card_number = $", "m.id = $"), receipt)  # the card is the member's

    def value(found: re.Match[str]) -> str:
        number = int(found.group(1)) - 1
        return _literal(params[number], member=members[number], receipt=receipt)

    return _PLACEHOLDER.sub(value, sql)


def capture(
    database: Database, settings: Settings, bodies: Callable[[], dict[str, Any]], count: int
) -> list[list[str]]:
    """`count` purchases as pgbench statements (`:m` the member, `:k` the receipt number)."""
    shapes: list[list[str]] = []
    with database.engine.connect() as connection:
        card_of: dict[str, int] = {
            card: id_ for card, id_ in connection.execute(text("SELECT card_number, id FROM members"))
        }
    attempts = 0
    while len(shapes) < count and attempts < count * 10:
        attempts += 1
        first, second = bodies(), bodies()
        second = {**first, "code": second["code"], "receipt_id": first["receipt_id"]}
        if first["code"] == second["code"]:
            continue
        now = SystemClock().now()
        one = _traced(database, settings, first, now)
        other = _traced(database, settings, second, now)
        if [sql for sql, _ in one] != [sql for sql, _ in other]:
            continue  # the two members' states led to different statements: another pair
        member_one, member_two = card_of[first["code"]], card_of[second["code"]]
        receipt = first["receipt_id"]
        statements = []
        for (sql, params), (_, params_two) in zip(one, other, strict=True):
            members = [a == member_one and b == member_two for a, b in zip(params, params_two, strict=True)]
            statements.append(_written(sql, params, members, receipt))
        shapes.append(statements)
    return shapes


def _script(shapes: list[list[str]], purchases: int, members: tuple[int, int]) -> str:
    lines = ["BEGIN;"]
    for _ in range(purchases):
        lines += [f"\\set m random({members[0]}, {members[1]})", "\\set k random(1, 1000000000000000)"]
        lines += [statement + ";" for statement in random.choice(shapes)]
    return "\n".join([*lines, "COMMIT;", ""])


def replay(
    binary: str, dsn_args: list[str], database: str, shapes: list[list[str]], *,
    members: tuple[int, int], clients: int, per_transaction: int, seconds: int,
) -> tuple[float, int]:  # fmt: skip
    """(purchases/s, failed transactions) of pgbench running the shapes."""
    with tempfile.TemporaryDirectory() as directory:
        files = []
        for number in range(8):
            path = Path(directory) / f"purchases-{number}.sql"
            path.write_text(_script(shapes, per_transaction, members))
            files += ["-f", str(path)]
        result = subprocess.run(
            [binary, *dsn_args, "-n", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(seconds),
             "-M", "prepared", *files, database],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    return pgbench_tps(result) * per_transaction, int(failed.group(1)) if failed else 0


def pgbench_tps(result: subprocess.CompletedProcess[str]) -> float:
    """Transactions per second from pgbench's report, without the initial connection time."""
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    if tps is None or result.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return float(tps.group(1))
