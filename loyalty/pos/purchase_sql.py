"""The till purchase's statements, hand-written, on the request transaction's own connection.

A purchase is the one request that runs at the till's pace, and through the ORM and Core each
of its ~24 statements cost more Python than the database spent on it (10-15 ms per purchase).
Here every statement is plain SQL run on the DBAPI connection of the session's transaction
(so it commits or rolls back with everything else), several reads are folded into one, and
values are bound in the form SQLAlchemy stores them, so the rows are the same rows the domain
repositories write and read. The tables stay owned by their domains; this module only writes
what their services would have written for a purchase (tests compare the two).
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

# SQLAlchemy's storage format for DateTime on SQLite (text, compared as text).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class Raw:
    """Plain statements (`?` placeholders) on the session transaction's DBAPI connection."""

    __slots__ = ("connection", "cursor", "sqlite")

    _pg_texts: dict[str, str] = {}

    def __init__(self, session: Session) -> None:
        connection = session.connection()  # begins the transaction (BEGIN IMMEDIATE on SQLite)
        self.sqlite = connection.dialect.name == "sqlite"
        self.connection: Any = connection.connection.driver_connection
        self.cursor = self.connection.cursor()

    def _sql(self, sql: str) -> str:
        if self.sqlite:
            return sql
        translated = self._pg_texts.get(sql)
        if translated is None:
            translated = self._pg_texts[sql] = sql.replace("?", "%s")
        return translated

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(self._sql(sql), params)
        return list(self.cursor.fetchall())

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        self.cursor.execute(self._sql(sql), params)
        return int(self.cursor.rowcount)

    def batch(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
        """Each statement's rows, in order. (psycopg's pipeline mode was measured slower here
        than plain round trips on loopback: more CPU per statement, not less.)"""
        results = []
        for sql, params in statements:
            self.cursor.execute(self._sql(sql), params)
            results.append(list(self.cursor.fetchall()) if self.cursor.description else [])
        return results

    def time(self, moment: datetime) -> Any:
        """A timestamp as bound: UTC text on SQLite, an aware datetime on PostgreSQL."""
        return moment.astimezone(UTC).strftime(_SQLITE_TIME) if self.sqlite else moment

    def time_of(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- statements ------------------------------------------------------------------------------

CLAIM_KEY = (
    "INSERT INTO idempotency_records (scope, key, request_hash, response, status_code, created_at)"
    " VALUES (?, ?, ?, '', 0, ?) ON CONFLICT (scope, key) DO NOTHING RETURNING id"
)
SAVE_KEY = "UPDATE idempotency_records SET status_code = ?, response = ? WHERE id = ?"

_LATEST = "(SELECT number, digest FROM program_versions ORDER BY number DESC LIMIT 1)"
_MEMBER = (
    f"SELECT m.id, m.status, m.joined_at, p.number, p.digest FROM members m LEFT JOIN {_LATEST} p ON 1 = 1"
)
MEMBER_BY_CARD = _MEMBER + " WHERE m.card_number = ?"
MEMBER_BY_ID = _MEMBER + " WHERE m.id = ?"
STAFF = "SELECT role, active FROM staff WHERE id = ?"

CLAIM_RECEIPT = (
    "INSERT INTO pos_receipts (receipt_id, member_id, store, total_cents, currency, content_hash,"
    " staff_id, booked_at, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')"
    " ON CONFLICT (receipt_id) DO NOTHING RETURNING id"
)
RECEIPT = "SELECT content_hash, response FROM pos_receipts WHERE receipt_id = ?"
SAVE_RECEIPT = "UPDATE pos_receipts SET response = ? WHERE id = ?"

# Creates the member's balance row on first use, and locks it either way (ON CONFLICT DO UPDATE
# takes the row lock, as ledger.repository.lock_balance's SELECT .. FOR UPDATE does).
LOCK_BALANCE = (
    "INSERT INTO member_balances (member_id, balance, debt, updated_at) VALUES (?, 0, 0, ?)"
    " ON CONFLICT (member_id) DO UPDATE SET updated_at = member_balances.updated_at RETURNING balance, debt"
)
STORE_BALANCE = "UPDATE member_balances SET balance = ?, debt = ?, updated_at = ? WHERE member_id = ?"

# Read after the lock: the tier (another purchase may just have changed it) and the lot sums.
MEMBER_STATE = (
    "SELECT m.tier,"
    " coalesce(sum(CASE WHEN l.available_at <= ? AND (l.expires_at IS NULL OR l.expires_at > ?)"
    " THEN l.lot_remaining ELSE 0 END), 0),"
    " coalesce(sum(CASE WHEN l.available_at > ? THEN l.lot_remaining ELSE 0 END), 0)"
    " FROM members m LEFT JOIN ledger_entries l ON l.member_id = m.id AND l.lot_remaining > 0"
    " WHERE m.id = ? GROUP BY m.tier"
)
CONSENTS = "SELECT 'c', purpose, '', '' FROM consent_states WHERE member_id = ? AND state = 'granted'"


def consents_and_fields(fields: int) -> str:
    """Rows ('c', purpose) of active consents, then ('p', field, kind, value) of the member's
    values of `fields` declared fields: one statement."""
    if not fields:
        return CONSENTS
    marks = ", ".join("?" * fields)
    return (
        CONSENTS + " UNION ALL SELECT 'p', field, kind, value FROM profile_values"
        f" WHERE member_id = ? AND field IN ({marks})"
    )


INSERT_EVENT = (
    "INSERT INTO member_events (member_id, event_type, reference, idempotency_key, occurred_at,"
    " amount_cents, program_version, data, created_at) VALUES (?, 'purchase', ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_EARN = (
    "INSERT INTO ledger_entries (member_id, kind, points, status, reference, idempotency_key,"
    " request_hash, rule, event_type, description, lot_remaining, available_at, expires_at,"
    " occurred_at, created_at) VALUES (?, 'earn', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Sent in the same batch as the event and the lots, so their ids are looked up by their keys.
INSERT_AWARD = (
    "INSERT INTO rule_awards (member_id, event_id, rule, points, reward, ledger_entry_id, why, occurred_at)"
    " VALUES (?, (SELECT id FROM member_events WHERE idempotency_key = ?), ?, ?, ?,"
    " (SELECT id FROM ledger_entries WHERE member_id = ? AND idempotency_key = ?), ?, ?)"
)
SET_TIER = "UPDATE members SET tier = ? WHERE id = ?"

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


def rule_usage_sql(start: bool, end: bool) -> str:
    return _RULE_USAGE + (" AND occurred_at >= ?" if start else "") + (" AND occurred_at < ?" if end else "")


class History:
    """The rules' History for one purchase, read with the statements above.

    The purchase's own event is written with the other writes after evaluation, so purchases()
    and spent() add it here, as the database would count it had it been written first.
    Earned-points totals are remembered per window and kept current by `credited()` (the
    purchase holds the member's lock: nobody else books for the member meanwhile), so the tier
    computed after the points are booked reuses what the rules already read.
    """

    def __init__(self, raw: Raw, *, member_id: int, at: datetime, amount_cents: int) -> None:
        self.raw = raw
        self.current = (str(member_id), at, amount_cents)
        self._earned: dict[tuple[str, datetime, datetime], int] = {}

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

    def purchases(self, member_id: str, start: datetime, end: datetime) -> int:
        raw = self.raw
        row = raw.one(PURCHASE_COUNT, (int(member_id), raw.time(start), raw.time(end)))
        return (int(row[0]) if row else 0) + self._counts_current(member_id, start, end)

    def spent(self, member_id: str, start: datetime, end: datetime) -> Decimal:
        raw = self.raw
        row = raw.one(SPENT_CENTS, (int(member_id), raw.time(start), raw.time(end)))
        cents = int(row[0]) if row else 0
        if self._counts_current(member_id, start, end):
            cents += self.current[2]
        return Decimal(cents) / 100

    def earned_points(self, member_id: str, start: datetime, end: datetime) -> int:
        key = (str(member_id), start, end)
        if key not in self._earned:
            raw = self.raw
            window = (int(member_id), raw.time(start), raw.time(end))
            row = raw.one(EARNED_POINTS, window + window)
            self._earned[key] = int(row[0]) if row else 0
        return self._earned[key]

    def credited(self, member_id: str, points: int, occurred_at: datetime) -> None:
        for member, start, end in self._earned:
            if member == str(member_id) and start <= occurred_at < end:
                self._earned[member, start, end] += points

    def record(self, event: dict[str, Any], at: datetime, effects: list[Any]) -> None:
        """The purchase books effects itself, in the same transaction."""
