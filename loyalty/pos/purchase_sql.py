"""The till purchase's statements, hand-written, on the request transaction's own connection.

A purchase is the one request that runs at the till's pace, and through the ORM and Core each
of its ~24 statements cost more Python than the database spent on it (10-15 ms per purchase).
Here every statement is plain SQL run on the DBAPI connection of the session's transaction
(so it commits or rolls back with everything else), several reads are folded into one, and
values are bound in the form SQLAlchemy stores them, so the rows are the same rows the domain
repositories write and read. The tables stay owned by their domains; this module only writes
what their services would have written for a purchase (tests compare the two).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from loyalty.engine.history import DatabaseHistory

# SQLAlchemy's storage format for DateTime on SQLite (text, compared as text).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class Raw:
    """Plain statements (`?` placeholders) on the session transaction's DBAPI connection."""

    __slots__ = ("connection", "cursor", "sqlite", "_times")

    _pg_texts: dict[str, str] = {}
    # Called with (statement, parameters) before each statement: the benchmark EXPLAINs them.
    trace: Callable[[str, tuple[Any, ...]], None] | None = None

    def __init__(self, session: Session) -> None:
        connection = session.connection()  # begins the transaction (BEGIN IMMEDIATE on SQLite)
        self.sqlite = connection.dialect.name == "sqlite"
        driver: Any = connection.connection.driver_connection
        self.connection = driver
        self.cursor = driver.cursor()
        self._times: dict[datetime, str] = {}

    def _sql(self, sql: str, params: tuple[Any, ...]) -> str:
        if not self.sqlite:
            translated = self._pg_texts.get(sql)
            if translated is None:
                translated = self._pg_texts[sql] = sql.replace("?", "%s")
            sql = translated
        if Raw.trace is not None:
            Raw.trace(sql, params)
        return sql

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(self._sql(sql, params), params)
        return list(self.cursor.fetchall())

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        self.cursor.execute(self._sql(sql, params), params)
        return int(self.cursor.rowcount)

    def batch(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
        """Each statement's rows, in order. (psycopg's pipeline mode was measured slower here
        than plain round trips on loopback: more CPU per statement, not less.)"""
        results = []
        for sql, params in statements:
            self.cursor.execute(self._sql(sql, params), params)
            results.append(list(self.cursor.fetchall()) if self.cursor.description else [])
        return results

    def time(self, moment: datetime) -> Any:
        """A timestamp as bound: UTC text on SQLite, an aware datetime on PostgreSQL."""
        if not self.sqlite:
            return moment
        text = self._times.get(moment)  # a purchase formats the same few moments ~15 times
        if text is None:
            text = self._times[moment] = moment.astimezone(UTC).strftime(_SQLITE_TIME)
        return text

    def time_of(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- the purchase's steps ----------------------------------------------------------------------
# Each step is one statement on PostgreSQL (data-modifying CTEs) and a few cheap in-process
# statements on SQLite, which has no INSERT inside WITH.

_CLAIM_KEY = (
    "INSERT INTO idempotency_records (scope, key, request_hash, response, status_code, created_at)"
    " VALUES (?, ?, ?, '', 0, ?) ON CONFLICT (scope, key) DO NOTHING RETURNING id"
)
_SAVE_KEY = "UPDATE idempotency_records SET status_code = ?, response = ? WHERE id = ?"
_LATEST = "(SELECT number, digest FROM program_versions ORDER BY number DESC LIMIT 1)"
_STAFF = "SELECT role, active FROM staff WHERE id = ?"
_MEMBER = (
    "SELECT m.id, m.status, m.joined_at, p.number, p.digest FROM members m LEFT JOIN {latest} p ON 1 = 1"
)
_OPEN_PG = (
    "WITH claim AS (" + _CLAIM_KEY + ")"
    " SELECT (SELECT id FROM claim), s.role, s.active, m.id, m.status, m.joined_at, p.number, p.digest"
    " FROM (SELECT 1) AS one LEFT JOIN staff s ON s.id = ? LEFT JOIN members m ON m.{column} = ?"
    " LEFT JOIN " + _LATEST + " p ON true"
)


def open_purchase(
    raw: Raw, *, claim: tuple[Any, ...], staff_id: int | None, member_id: int | None, card_number: str | None
) -> tuple[int | None, tuple[Any, ...] | None, tuple[Any, ...] | None]:
    """Claim the idempotency key and find cashier and member (with the newest program version).

    (claim id or None if the key was claimed before, (role, active) or None, (id, status,
    joined_at, version number, digest) or None)."""
    column, value = ("id", member_id) if member_id is not None else ("card_number", card_number)
    if not raw.sqlite:
        row = raw.one(_OPEN_PG.format(column=column), (*claim, staff_id, value))
        assert row is not None
        staff = (row[1], row[2]) if row[1] is not None else None
        return row[0], staff, (row[3:] if row[3] is not None else None)
    staff = raw.one(_STAFF, (staff_id,)) if staff_id is not None else None
    claimed = raw.one(_CLAIM_KEY, claim)
    member = raw.one(_MEMBER.format(latest=_LATEST) + f" WHERE m.{column} = ?", (value,))
    return (claimed[0] if claimed else None), staff, member


_CLAIM_RECEIPT = (
    "INSERT INTO pos_receipts (receipt_id, member_id, store, total_cents, currency, content_hash,"
    " staff_id, booked_at, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')"
    " ON CONFLICT (receipt_id) DO NOTHING RETURNING id"
)
# Creates the member's balance row on first use, and locks it either way (ON CONFLICT DO UPDATE
# takes the row lock, as ledger.repository.lock_balance's SELECT .. FOR UPDATE does).
_LOCK_BALANCE = (
    "INSERT INTO member_balances (member_id, balance, debt, updated_at) VALUES (?, 0, 0, ?)"
    " ON CONFLICT (member_id) DO UPDATE SET updated_at = member_balances.updated_at RETURNING balance, debt"
)
_CLAIM_AND_LOCK_PG = (
    "WITH r AS (" + _CLAIM_RECEIPT + "), b AS (" + _LOCK_BALANCE + ")"
    " SELECT (SELECT id FROM r), b.balance, b.debt FROM b"
)
RECEIPT = "SELECT content_hash, response FROM pos_receipts WHERE receipt_id = ?"


def claim_receipt_and_lock(
    raw: Raw, *, receipt: tuple[Any, ...], member_id: int, at: Any
) -> tuple[int | None, int, int]:
    """Claim the receipt id and lock the member's balance row (created on first use), as
    ledger.lock_member: (receipt row id or None if booked before, balance, debt)."""
    if not raw.sqlite:
        row = raw.one(_CLAIM_AND_LOCK_PG, (*receipt, member_id, at))
        assert row is not None
        return row[0], int(row[1]), int(row[2])
    claimed = raw.one(_CLAIM_RECEIPT, receipt)
    locked = raw.one(_LOCK_BALANCE, (member_id, at))
    assert locked is not None
    return (claimed[0] if claimed else None), int(locked[0]), int(locked[1])


# A separate statement after the lock: one statement reads one snapshot, taken before any wait
# for the lock, so tier and lots read together with the lock could miss what the holder wrote.
_STATE = (
    "SELECT 's', m.tier,"
    " CAST(coalesce(sum(CASE WHEN l.available_at <= ? AND (l.expires_at IS NULL OR l.expires_at > ?)"
    " THEN l.lot_remaining ELSE 0 END), 0) AS TEXT),"
    " CAST(coalesce(sum(CASE WHEN l.available_at > ? THEN l.lot_remaining ELSE 0 END), 0) AS TEXT)"
    " FROM members m LEFT JOIN ledger_entries l ON l.member_id = m.id AND l.lot_remaining > 0"
    " WHERE m.id = ? GROUP BY m.tier"
    " UNION ALL SELECT 'c', purpose, '', '' FROM consent_states WHERE member_id = ? AND state = 'granted'"
)


def member_state(
    raw: Raw, *, member_id: int, at: Any, fields: list[str], figures: Sequence[tuple[str, Any, Any]] = ()
) -> tuple[str | None, int, int, set[str], list[tuple[str, str, str]], list[int]]:
    """After the lock: (tier, available lot points, pending lot points, active consent purposes,
    (field, kind, stored value) of the member's values of `fields`, the value of each history
    figure (function, start, end) in `figures`) in one statement: the rules' history reads
    come with the member's state instead of a round trip each."""
    sql = _STATE
    params: tuple[Any, ...] = (at, at, at, member_id, member_id)
    if fields:
        marks = ", ".join("?" * len(fields))
        sql += (
            " UNION ALL SELECT 'p', field, kind, value FROM profile_values"
            f" WHERE member_id = ? AND field IN ({marks})"
        )
        params += (member_id, *fields)
    for number, (function, start, end) in enumerate(figures):
        sql += f" UNION ALL SELECT 'h', '{number}', CAST(({_FIGURES[function]}) AS TEXT), ''"
        window = (member_id, start, end)
        params += window + window if function == "earned_points" else window
    tier, available, pending = None, 0, 0
    consents: set[str] = set()
    values: list[tuple[str, str, str]] = []
    figured = [0] * len(figures)
    for kind, name, first, second in raw.rows(sql, params):
        if kind == "s":
            tier, available, pending = name, int(first), int(second)
        elif kind == "c":
            consents.add(name)
        elif kind == "h":
            figured[int(name)] = int(first)
        else:
            values.append((name, first, second))
    return tier, available, pending, consents, values, figured


_EVENT_COLUMNS = (
    "member_events (member_id, event_type, reference, idempotency_key, occurred_at, amount_cents,"
    " program_version, data, created_at) VALUES (?, 'purchase', ?, ?, ?, ?, ?, ?, ?)"
)
_EARN_COLUMNS = (
    "ledger_entries (member_id, kind, points, status, reference, idempotency_key, request_hash, rule,"
    " event_type, description, lot_remaining, available_at, expires_at, occurred_at, created_at)"
    " VALUES (?, 'earn', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_AWARD = (
    "INSERT INTO rule_awards (member_id, event_id, rule, points, reward, ledger_entry_id, why, occurred_at)"
    " VALUES (?, {event}, ?, ?, ?, {entry}, ?, ?)"
)
_STORE_BALANCE = "UPDATE member_balances SET balance = ?, debt = ?, updated_at = ? WHERE member_id = ?"
_SET_TIER = "UPDATE members SET tier = ? WHERE id = ?"
_SAVE_RECEIPT = "UPDATE pos_receipts SET response = ? WHERE id = ?"


@dataclass
class Bookings:
    """Every row a purchase writes, for write_purchase()."""

    event: tuple[Any, ...] | None = None
    # (earn lot parameters or None, award parameters without the event and entry ids)
    awards: list[tuple[tuple[Any, ...] | None, tuple[Any, ...]]] = field(default_factory=list)
    balance: tuple[Any, ...] | None = None
    tier: tuple[Any, ...] | None = None
    receipt: tuple[Any, ...] | None = None
    key: tuple[Any, ...] | None = None


def write_purchase(raw: Raw, bookings: Bookings) -> None:
    """All of a purchase's writes: one statement on PostgreSQL."""
    updates = [
        (sql, params)
        for sql, params in (
            (_STORE_BALANCE, bookings.balance), (_SET_TIER, bookings.tier),
            (_SAVE_RECEIPT, bookings.receipt), (_SAVE_KEY, bookings.key),
        )
        if params is not None
    ]  # fmt: skip
    if raw.sqlite:
        event_id = None
        if bookings.event is not None:
            event_row = raw.one("INSERT INTO " + _EVENT_COLUMNS + " RETURNING id", bookings.event)
            event_id = event_row[0] if event_row else None
        for earn, award in bookings.awards:
            entry_id = None
            if earn is not None:
                entry_row = raw.one("INSERT INTO " + _EARN_COLUMNS + " RETURNING id", earn)
                entry_id = entry_row[0] if entry_row else None
            raw.run(
                _AWARD.format(event="?", entry="?"), (award[0], event_id, *award[1:4], entry_id, *award[4:])
            )
        for statement, values in updates:
            raw.run(statement, values)
        return
    parts: list[str] = []
    params: list[Any] = []
    if bookings.event is not None:
        parts.append("ev AS (INSERT INTO " + _EVENT_COLUMNS + " RETURNING id)")
        params += bookings.event
    earns = [earn for earn, _ in bookings.awards if earn is not None]
    if earns:
        # One INSERT with the rows in effect order, and awards from one INSERT .. SELECT ordered
        # the same way: ids follow the effects (separate CTEs run in no promised order).
        row = _EARN_COLUMNS.partition(" VALUES ")[2]
        parts.append(
            f"le AS (INSERT INTO {_EARN_COLUMNS}{(', ' + row) * (len(earns) - 1)}"
            " RETURNING id, idempotency_key)"
        )
        for earn in earns:
            params += earn
    if bookings.awards:
        rows = ", ".join([_AWARD_ROW] * len(bookings.awards))
        entry, join = ("le.id", " LEFT JOIN le ON le.idempotency_key = v.k") if earns else ("NULL", "")
        parts.append(
            "aw AS (INSERT INTO rule_awards (member_id, event_id, rule, points, reward, ledger_entry_id,"
            f" why, occurred_at) SELECT v.m, (SELECT id FROM ev), v.rule, v.points, v.reward, {entry},"
            f" v.why, v.at FROM (VALUES {rows}) AS v (n, m, rule, points, reward, k, why, at){join}"
            " ORDER BY v.n)"
        )
        for number, (earn, award) in enumerate(bookings.awards):
            member_id, rule, points, reward, why, at = award
            params += (number, member_id, rule, points, reward, earn[4] if earn else None, why, at)
    for number, (sql, values_of) in enumerate(updates):
        parts.append(f"u{number} AS ({sql})")
        params += values_of
    raw.run("WITH " + ", ".join(parts) + " SELECT 1", tuple(params))


_AWARD_ROW = (
    "(CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT),"
    " CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ))"
)


PURCHASE_COUNT = (
    "SELECT count(*) FROM member_events WHERE member_id = ? AND event_type = 'purchase'"
    " AND occurred_at >= ? AND occurred_at < ?"
)
SPENT_CENTS = (
    "SELECT coalesce(sum(amount_cents), 0) FROM member_events WHERE member_id = ?"
    " AND event_type IN ('purchase', 'return') AND occurred_at >= ? AND occurred_at < ?"
)
_RULE_USAGE = (
    "SELECT coalesce(sum(CASE WHEN points >= 0 THEN 1 ELSE 0 END), 0), coalesce(sum(points), 0)"
    " FROM rule_awards WHERE member_id = ? AND rule = ?"
)
BUDGET_USED = "SELECT used FROM rule_budgets WHERE rule = ?"
# Earn points by occurred_at in the window, net of reversals of those same earns (as
# ledger.repository.earned_points: reversals found by the member's own earn ids).
EARNED_POINTS = (
    "SELECT coalesce(sum(points), 0) FROM ledger_entries WHERE member_id = ?"
    " AND kind IN ('earn', 'reverse') AND ((kind = 'earn' AND occurred_at >= ? AND occurred_at < ?)"
    " OR (kind = 'reverse' AND reverses_id IN (SELECT id FROM ledger_entries WHERE member_id = ?"
    " AND kind = 'earn' AND occurred_at >= ? AND occurred_at < ?)))"
)


# The history functions' statements, by the rules language's name (all take member, start, end;
# earned_points twice).
_FIGURES = {"purchases": PURCHASE_COUNT, "spent": SPENT_CENTS, "earned_points": EARNED_POINTS}


def rule_usage_sql(start: bool, end: bool) -> str:
    return _RULE_USAGE + (" AND occurred_at >= ?" if start else "") + (" AND occurred_at < ?" if end else "")


class History(DatabaseHistory):
    """The rules' History for one purchase, read with the statements above (the remembered
    earned-points totals and credited() are DatabaseHistory's).

    The purchase's own event is written with the other writes after evaluation, so purchases()
    and spent() add it here, as the database would count it had it been written first.
    `known` holds figures read beforehand with the member's state ((function, start, end) ->
    the database's value); any other window is read when asked for.
    """

    def __init__(
        self,
        session: Session,
        raw: Raw,
        *,
        member_id: int,
        at: datetime,
        amount_cents: int,
        known: dict[tuple[str, datetime, datetime], int] | None = None,
    ) -> None:
        super().__init__(session)
        self.raw = raw
        self.current = (str(member_id), at, amount_cents)
        self.known = known or {}
        for (function, start, end), value in self.known.items():
            if function == "earned_points":  # remembered, and kept current by credited()
                self._earned[str(member_id), start, end] = value

    def _counts_current(self, member_id: str, start: datetime, end: datetime) -> bool:
        member, at, _ = self.current
        return member == str(member_id) and start <= at < end

    def rule_usage(
        self, member_id: str, rule: str, start: datetime | None, end: datetime | None
    ) -> tuple[int, int]:
        raw = self.raw
        params: tuple[Any, ...] = (int(member_id), rule)
        if start is not None:
            params += (raw.time(start),)
        if end is not None:
            params += (raw.time(end),)
        fires, points = raw.one(rule_usage_sql(start is not None, end is not None), params) or (0, 0)
        return int(fires), int(points)

    def budget_used(self, rule: str) -> int:
        row = self.raw.one(BUDGET_USED, (rule,))
        return int(row[0]) if row else 0

    def _read(self, function: str, member_id: str, start: datetime, end: datetime) -> int:
        if member_id == self.current[0]:
            known = self.known.get((function, start, end))
            if known is not None:
                return known
        raw = self.raw
        window = (int(member_id), raw.time(start), raw.time(end))
        row = raw.one(_FIGURES[function], window + window if function == "earned_points" else window)
        return int(row[0]) if row else 0

    def purchases(self, member_id: str, start: datetime, end: datetime) -> int:
        return self._read("purchases", member_id, start, end) + self._counts_current(member_id, start, end)

    def spent(self, member_id: str, start: datetime, end: datetime) -> Decimal:
        cents = self._read("spent", member_id, start, end)
        if self._counts_current(member_id, start, end):
            cents += self.current[2]
        return Decimal(cents) / 100

    def _earned_total(self, member_id: int, start: datetime, end: datetime) -> int:
        return self._read("earned_points", str(member_id), start, end)
