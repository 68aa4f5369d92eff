"""The till purchase's statements, hand-written, on the request transaction's own connection.

A purchase is the one request that runs at the till's pace, and through the ORM and Core each
of its ~24 statements cost more Python than the database spent on it (10-15 ms per purchase).
Here every statement is plain SQL run on the DBAPI connection of the session's transaction
(so it commits or rolls back with everything else), several reads are folded into one, and
values are bound in the form SQLAlchemy stores them, so the rows are the same rows the domain
repositories write and read. The tables stay owned by their domains; this module only writes
what their services would have written for a purchase (tests compare the two).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from loyalty.pos.purchase_history import FIGURES
from loyalty.pos.raw import Raw

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
        sql += f" UNION ALL SELECT 'h', '{number}', CAST(({FIGURES[function]}) AS TEXT), ''"
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


# A rule's voucher of a reward that is offered now with unlimited stock, as
# rewards.grant_voucher issues it, in one statement: no row if the reward is limited, withdrawn,
# expired or unknown, or the key (or, by chance, the code) is taken: the service decides those.
_GRANT = (
    "INSERT INTO vouchers (member_id, reward_id, code, source, points, reason, idempotency_key, qr_jti,"
    " issued_at, expires_at) SELECT ?, id, ?, 'grant', 0, ?, ?, NULL, ?, coalesce(valid_until, ?)"
    " FROM rewards WHERE name = ? AND active AND stock IS NULL AND (valid_until IS NULL OR valid_until > ?)"
    " ON CONFLICT DO NOTHING RETURNING id"
)


def grant_unlimited(
    raw: Raw, *, member_id: int, reward: str, code: str, reason: str, key: str, at: Any, expires: Any
) -> bool:
    """Issue the voucher if the reward is simply available (see _GRANT); False: nothing written."""
    return raw.one(_GRANT, (member_id, code, reason[:300], key, at, expires, reward, at)) is not None


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
