"""SQL for events, rule awards and budgets (Core statements: this is the till's hot path)."""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from loyalty.engine.models import MemberEvent, RuleAward, RuleBudget
from loyalty.members.models import Member

events = MemberEvent.__table__  # type: ignore[attr-defined]
awards = RuleAward.__table__  # type: ignore[attr-defined]
budgets = RuleBudget.__table__  # type: ignore[attr-defined]
log = logging.getLogger("loyalty.engine")


def _window(query: Any, column: Any, start: datetime | None, end: datetime | None) -> Any:
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


# Built once with bind parameters: every purchase asks these, and building a statement cost
# more than running it.
_member: Any = bindparam("member_id")
_start: Any = bindparam("start")
_end: Any = bindparam("end")
_PURCHASE_COUNT = select(func.count()).where(
    events.c.member_id == _member, events.c.event_type == "purchase",
    events.c.occurred_at >= _start, events.c.occurred_at < _end,
)  # fmt: skip
_SPENT_CENTS = select(func.coalesce(func.sum(events.c.amount_cents), 0)).where(
    events.c.member_id == _member, events.c.event_type.in_(("purchase", "return")),
    events.c.occurred_at >= _start, events.c.occurred_at < _end,
)  # fmt: skip
# Reversal rows (negative points) net the points but are not firings.
_FIRED = func.coalesce(func.sum(case((awards.c.points >= 0, 1), else_=0)), 0)
_RULE_USAGE = select(_FIRED, func.coalesce(func.sum(awards.c.points), 0)).where(
    awards.c.member_id == _member, awards.c.rule == bindparam("rule")
)
_RULE_USAGE_IN = _RULE_USAGE.where(awards.c.occurred_at >= _start, awards.c.occurred_at < _end)
_EVENT_BY_KEY = select(events.c.id).where(events.c.idempotency_key == bindparam("key"))
_INSERT_EVENT = insert(events).returning(events.c.id)
_members = Member.__table__  # type: ignore[attr-defined]
_MEMBER_TIER = select(_members.c.tier).where(_members.c.id == _member)


def member_tier(session: Session, *, member_id: int) -> str | None:
    """The member's stored tier as committed now (read after taking the member's lock)."""
    return session.execute(_MEMBER_TIER, {"member_id": member_id}).scalar()  # type: ignore[no-any-return]


def purchase_count(session: Session, *, member_id: int, start: datetime, end: datetime) -> int:
    params = {"member_id": member_id, "start": start, "end": end}
    return int(session.execute(_PURCHASE_COUNT, params).scalar_one())


def spent_cents(session: Session, *, member_id: int, start: datetime, end: datetime) -> int:
    params = {"member_id": member_id, "start": start, "end": end}
    return int(session.execute(_SPENT_CENTS, params).scalar_one())


def rule_usage(
    session: Session, *, member_id: int, rule: str, start: datetime | None, end: datetime | None
) -> tuple[int, int]:
    if start is not None and end is not None:
        params = {"member_id": member_id, "rule": rule, "start": start, "end": end}
        fires, points = session.execute(_RULE_USAGE_IN, params).one()
    else:
        query = _window(_RULE_USAGE, awards.c.occurred_at, start, end)
        fires, points = session.execute(query, {"member_id": member_id, "rule": rule}).one()
    return int(fires), int(points)


def budget_used(session: Session, *, rule: str) -> int:
    used = session.execute(_USED, {"rule": rule}).scalar()
    return int(used or 0)


def take_budget(session: Session, *, rule: str, points: int, budget: int) -> int:
    """Atomically reserve up to `points` of a rule's budget; returns what was granted.

    On SQLite, in the session's transaction (one writer at a time anyway). On PostgreSQL, in a
    transaction of its own, committed at once: in the session's transaction the conditional
    UPDATE held the budget's row until that commit, so every till whose purchase took from the
    budget waited for the others' whole transactions (batches of up to 16 purchases), and two
    batches that also shared a member deadlocked. If the session's transaction then rolls back
    before it commits, the reservation is given back (_give_back); if the process dies in
    between, those points stay reserved: the budget is under-spent, never exceeded.
    """
    if session.get_bind().dialect.name != "postgresql":
        return _take(session, rule=rule, points=points, budget=budget, upsert=sqlite_insert)
    session.connection()  # the transaction whose rollback gives the points back has begun
    with _own_transactions(session) as own:
        granted = _take(own, rule=rule, points=points, budget=budget, upsert=pg_insert)
    if granted:
        session.info.setdefault(_RESERVED, []).append((rule, granted))
    return granted


def _own_transactions(session: Session) -> Any:
    """Another connection of the session's engine, each statement committed at once."""
    return session.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _take(connection: Any, *, rule: str, points: int, budget: int, upsert: Any) -> int:
    """The conditional UPDATE (one statement once the budget's row exists): each try re-checks
    against the committed value."""
    while points > 0:
        result = connection.execute(_TAKE, {"b_rule": rule, "b_points": points, "b_budget": budget})
        if result.rowcount == 1:
            return points
        used = connection.execute(_USED, {"rule": rule}).scalar()
        if used is None:  # the rule's first award: its row, then try again
            connection.execute(upsert(budgets).values(rule=rule, used=0).on_conflict_do_nothing())
        else:
            points = min(points, budget - int(used))
    return 0


_TAKE = (
    update(budgets)
    .where(
        budgets.c.rule == bindparam("b_rule"), budgets.c.used + bindparam("b_points") <= bindparam("b_budget")
    )
    .values(used=budgets.c.used + bindparam("b_points"))
)
_USED = select(budgets.c.used).where(budgets.c.rule == bindparam("rule"))


# session.info keys: budget points reserved outside the session's transaction (rule, points),
# and whether that transaction has begun to commit.
_RESERVED = "loyalty.budgets_reserved"
_COMMITTING = "loyalty.budgets_committing"


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    if session.info.get(_RESERVED):
        session.info[_COMMITTING] = True


@event.listens_for(Session, "after_commit")
def _kept(session: Session) -> None:
    session.info.pop(_RESERVED, None)
    session.info.pop(_COMMITTING, None)


@event.listens_for(Session, "after_rollback")
def _give_back(session: Session) -> None:
    """The transaction that used the reserved points rolled back: they go back to the budget.
    Not after a failed commit, which may have committed after all (then they stay used)."""
    reserved = session.info.pop(_RESERVED, None)
    if not reserved or session.info.pop(_COMMITTING, False):
        return
    try:
        with _own_transactions(session) as own:
            for rule, points in reserved:
                own.execute(
                    update(budgets).where(budgets.c.rule == rule).values(used=budgets.c.used - points)
                )
    except Exception:  # noqa: BLE001 - the points stay reserved: under-spent, never exceeded
        log.exception("budget points of a rolled-back transaction could not be given back")


def insert_event(session: Session, **values: Any) -> int:
    return int(session.execute(_INSERT_EVENT, values).scalar_one())


def insert_awards(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(awards), rows)


def event_id_by_key(session: Session, *, idempotency_key: str) -> int | None:
    """The id of the event booked under this key, if any."""
    return session.execute(_EVENT_BY_KEY, {"key": idempotency_key}).scalar()


def purchase_by_receipt(session: Session, *, receipt_id: str) -> Any:
    return session.execute(
        select(events).where(events.c.event_type == "purchase", events.c.reference == receipt_id)
    ).first()


def awards_for_event(session: Session, *, event_id: int) -> list[Any]:
    return list(session.execute(select(awards).where(awards.c.event_id == event_id).order_by(awards.c.id)))


def update_event(session: Session, *, event_id: int, **values: Any) -> None:
    session.execute(update(events).where(events.c.id == event_id).values(**values))


def purchase_totals(session: Session, *, since: datetime) -> tuple[int, int]:
    """(purchases, amount in minor units) booked since `since`, all members."""
    count, cents = session.execute(
        select(func.count(), func.coalesce(func.sum(events.c.amount_cents), 0)).where(
            events.c.event_type == "purchase", events.c.occurred_at >= since
        )
    ).one()
    return int(count), int(cents)


# The newest events of active members, newest first (a simulation's sample of real events).
_RECENT = (
    select(
        events.c.id, events.c.member_id, events.c.event_type, events.c.occurred_at, events.c.data,
        _members.c.joined_at,
    )
    .join(_members, _members.c.id == events.c.member_id)
    .where(_members.c.status == "active")
    .order_by(events.c.id.desc())
    .limit(bindparam("limit"))
)


def recent_events(session: Session, *, limit: int) -> list[Any]:
    """(id, member_id, event_type, occurred_at, data, joined_at) of the newest `limit` events
    (the times aware, in UTC, as their column type gives them on both databases)."""
    return list(session.execute(_RECENT, {"limit": limit}).all())
