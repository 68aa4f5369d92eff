"""SQL for the ledger. Writers call lock_balance() first; everything else reads or appends."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from loyalty.ledger.models import EntryKind, EntryStatus, LedgerEntry, MemberBalance
from loyalty.members.models import Member

E = LedgerEntry


def member_exists(session: Session, member_id: int) -> bool:
    return session.get(Member, member_id) is not None


def _innermost(session: Session) -> Any:
    return session.get_nested_transaction() or session.get_transaction()


def lock_balance(session: Session, *, member_id: int, now: datetime) -> MemberBalance:
    """The member's balance row, created on first use and locked until the transaction ends.

    On PostgreSQL the FOR UPDATE makes concurrent writers of one member queue here; on SQLite
    the Database's writer lock and BEGIN IMMEDIATE already serialize every write transaction.
    A second call in the same (sub)transaction returns the row already locked without asking
    the database again: nobody else can have changed it since. Any other (sub)transaction,
    including one after a savepoint was rolled back (which releases its locks), locks afresh.
    """
    locked: dict[int, tuple[Any, MemberBalance]] = session.info.setdefault(_LOCKED, {})
    transaction = _innermost(session)
    held = locked.get(member_id)
    if held is not None and held[0] is transaction and transaction.is_active and held[1] in session:
        return held[1]
    # Reload even if the row is in the session already: another transaction may have changed
    # it between our last read and this lock.
    params = {"member_id": member_id}
    row = session.execute(_LOCK, params).scalar()
    if row is None:  # first write for this member: create the row, then lock it
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(MemberBalance)
            .values(member_id=member_id, balance=0, debt=0, updated_at=now)
            .on_conflict_do_nothing(index_elements=["member_id"])
        )
        row = session.execute(_LOCK, params).scalar_one()
    locked[member_id] = (transaction, row)
    return row  # type: ignore[no-any-return]


_LOCKED = "ledger.locked_balances"
_LOCK = (
    select(MemberBalance)
    .where(MemberBalance.member_id == bindparam("member_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def get_balance_row(session: Session, member_id: int) -> MemberBalance | None:
    return session.get(MemberBalance, member_id)


def get_entry(session: Session, entry_id: int, *, refresh: bool = False) -> LedgerEntry | None:
    statement = select(E).where(E.id == entry_id)
    if refresh:
        statement = statement.execution_options(populate_existing=True)
    return session.exec(statement).first()


_BY_KEY = select(E).where(E.member_id == bindparam("member_id"), E.idempotency_key == bindparam("key"))


def find_by_key(session: Session, *, member_id: int, key: str) -> LedgerEntry | None:
    return session.execute(_BY_KEY, {"member_id": member_id, "key": key}).scalar()  # type: ignore[no-any-return]


def add(session: Session, entry: LedgerEntry) -> LedgerEntry:
    session.add(entry)
    session.flush()
    return entry


_entries = LedgerEntry.__table__  # type: ignore[attr-defined]
_balances = MemberBalance.__table__  # type: ignore[attr-defined]
_INSERT_ENTRY = insert(_entries).returning(_entries.c.id)
_STORE_BALANCE = (
    update(_balances)
    .where(_balances.c.member_id == bindparam("row_member_id"))
    .values(balance=bindparam("balance"), debt=bindparam("debt"), updated_at=bindparam("updated_at"))
)


def append(session: Session, entry: LedgerEntry) -> LedgerEntry:
    """Insert a new entry with one prebuilt INSERT .. RETURNING id, then attach it to the session
    as a loaded row: the same result as add(), without a unit-of-work flush on the hot path."""
    values = {column.key: getattr(entry, column.key) for column in _entries.columns if column.key != "id"}
    entry.id = int(session.execute(_INSERT_ENTRY, values).scalar_one())
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def store_balance(session: Session, row: MemberBalance) -> None:
    """Write the (locked) balance row's figures now, and take them as the row's loaded state."""
    figures = {"balance": row.balance, "debt": row.debt, "updated_at": row.updated_at}
    for name, value in figures.items():  # first, or the statement's autoflush writes them too
        set_committed_value(row, name, value)
    session.execute(_STORE_BALANCE, {"row_member_id": row.member_id, **figures})


def _open_lots(member_id: int) -> Any:
    return (
        select(E)
        .where(E.member_id == member_id, col(E.lot_remaining) > 0)
        .order_by(col(E.available_at), col(E.id))
        .execution_options(populate_existing=True)
    )


def open_lots(session: Session, *, member_id: int) -> list[LedgerEntry]:
    """Every lot with points left, oldest first (FIFO by available_at, then id)."""
    return list(session.exec(_open_lots(member_id)).all())


def spendable_lots(session: Session, *, member_id: int, now: datetime) -> list[LedgerEntry]:
    """Available, unexpired lots with points left, oldest first."""
    statement = _open_lots(member_id).where(
        E.available_at <= now, or_(col(E.expires_at).is_(None), col(E.expires_at) > now)
    )
    return list(session.exec(statement).all())


@dataclass(frozen=True)
class LotSums:
    balance: int
    debt: int
    available: int
    pending: int
    expiring_soon: int


def lot_sums(session: Session, *, member_id: int, now: datetime, soon: datetime) -> LotSums:
    """Balance row and lot sums from one statement, so PostgreSQL reads them in one snapshot."""
    row = session.execute(_LOT_SUMS, {"member_id": member_id, "now": now, "soon": soon}).one()
    return LotSums(
        available=int(row[0]),
        pending=int(row[1]),
        expiring_soon=int(row[2]),
        balance=int(row[3] or 0),
        debt=int(row[4] or 0),
    )


def _lot_sums_statement() -> Any:
    """Built once: the till asks twice per purchase, and building it cost more than running it."""
    lots, balances = LedgerEntry.__table__, MemberBalance.__table__  # type: ignore[attr-defined]
    member: Any = bindparam("member_id")
    now: Any = bindparam("now")
    soon: Any = bindparam("soon")
    remaining = func.coalesce(lots.c.lot_remaining, 0)
    unexpired = or_(lots.c.expires_at.is_(None), lots.c.expires_at > now)
    available = and_(lots.c.available_at <= now, unexpired)
    return sa_select(
        func.coalesce(func.sum(case((available, remaining), else_=0)), 0),
        func.coalesce(func.sum(case((lots.c.available_at > now, remaining), else_=0)), 0),
        func.coalesce(func.sum(case((and_(available, lots.c.expires_at <= soon), remaining), else_=0)), 0),
        select(balances.c.balance).where(balances.c.member_id == member).scalar_subquery(),
        select(balances.c.debt).where(balances.c.member_id == member).scalar_subquery(),
    ).where(lots.c.member_id == member, lots.c.lot_remaining > 0)


_LOT_SUMS = _lot_sums_statement()


def reversed_total(session: Session, *, earn_id: int) -> int:
    """Points already taken back from an earn (a positive number)."""
    total = session.exec(
        select(func.coalesce(func.sum(E.points), 0)).where(
            E.reverses_id == earn_id, E.kind == EntryKind.reverse
        )
    ).one()
    return -int(total)


def members_with_due_lots(session: Session, *, now: datetime) -> list[int]:
    """Members with a lot past its expiry, or a pending entry whose stored status is stale."""
    expiring = select(E.member_id).where(col(E.lot_remaining) > 0, col(E.expires_at) <= now)
    maturing = select(E.member_id).where(E.status == EntryStatus.pending, E.available_at <= now)
    return sorted(int(member_id) for member_id in session.execute(expiring.union(maturing)).scalars())


def due_lots(session: Session, *, member_id: int, now: datetime) -> list[LedgerEntry]:
    return list(session.exec(_open_lots(member_id).where(col(E.expires_at) <= now)).all())


def mark_matured_available(session: Session, *, member_id: int, now: datetime) -> None:
    session.execute(
        update(E)
        .where(
            col(E.member_id) == member_id, col(E.status) == EntryStatus.pending, col(E.available_at) <= now
        )
        .values(status=EntryStatus.available)
        .execution_options(synchronize_session="fetch")
    )


def history(session: Session, *, member_id: int, limit: int, before_id: int | None) -> list[LedgerEntry]:
    statement = select(E).where(E.member_id == member_id)
    if before_id is not None:
        statement = statement.where(col(E.id) < before_id)
    return list(session.exec(statement.order_by(col(E.id).desc()).limit(limit)).all())


def entry_sums_by_member(session: Session) -> dict[int, tuple[int, int]]:
    """member_id -> (sum of points, sum of lot_remaining)."""
    rows: Any = session.exec(
        select(  # type: ignore[call-overload]
            E.member_id, func.sum(E.points), func.coalesce(func.sum(E.lot_remaining), 0)
        ).group_by(col(E.member_id))
    ).all()
    return {int(m): (int(p), int(r)) for m, p, r in rows}


def all_balances(session: Session) -> list[MemberBalance]:
    return list(session.exec(select(MemberBalance)).all())


def counts(session: Session) -> tuple[int, int]:
    entries = session.exec(select(func.count()).select_from(E)).one()
    balances = session.exec(select(func.count()).select_from(MemberBalance)).one()
    return int(entries), int(balances)


def bad_lots(session: Session) -> list[LedgerEntry]:
    """Lots whose remaining is negative or more than they credited."""
    return list(
        session.exec(
            select(E).where(
                col(E.lot_remaining).is_not(None),
                or_(col(E.lot_remaining) < 0, col(E.lot_remaining) > E.points),
            )
        ).all()
    )


def over_reversed_earns(session: Session) -> list[tuple[int, int, int]]:
    """(earn id, points earned, points reversed) where more was reversed than earned."""
    reversal = aliased(E)
    rows: Any = session.exec(
        select(E.id, E.points, -func.sum(reversal.points))  # type: ignore[call-overload]
        .join(reversal, col(reversal.reverses_id) == col(E.id))
        .group_by(col(E.id), col(E.points))
        .having(-func.sum(reversal.points) > E.points)
    ).all()
    return [(int(i), int(p), int(r)) for i, p, r in rows]


def earned_points(session: Session, *, member_id: int, start: datetime, end: datetime) -> int:
    """Earn points by occurred_at in [start, end), minus reversals of those same earns.

    One statement over the member's own entries (index on member_id, kind): reversals are found
    by the ids of the member's earns, never by joining the whole table on reverses_id, so the
    cost follows the member's history, not the size of the ledger.
    """
    params = {"member_id": member_id, "start": start, "end": end}
    return int(session.execute(_EARNED_POINTS, params).scalar_one())


def _earned_points_statement() -> Any:
    table = LedgerEntry.__table__  # type: ignore[attr-defined]
    member: Any = bindparam("member_id")
    start: Any = bindparam("start")
    end: Any = bindparam("end")
    in_period = and_(table.c.occurred_at >= start, table.c.occurred_at < end)
    own_earns = and_(table.c.member_id == member, table.c.kind == EntryKind.earn, in_period)
    earn_ids = select(table.c.id).where(own_earns)
    return select(func.coalesce(func.sum(table.c.points), 0)).where(
        table.c.member_id == member,
        table.c.kind.in_((EntryKind.earn, EntryKind.reverse)),
        or_(
            and_(table.c.kind == EntryKind.earn, in_period),
            and_(table.c.kind == EntryKind.reverse, table.c.reverses_id.in_(earn_ids)),
        ),
    )


_EARNED_POINTS = _earned_points_statement()


def points_outstanding(session: Session) -> int:
    """All members' balances together (the programme's liability in points)."""
    return int(session.execute(sa_select(func.coalesce(func.sum(_balances.c.balance), 0))).scalar_one())
