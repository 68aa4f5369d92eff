"""SQL for events, rule awards and budgets (Core statements: this is the till's hot path)."""

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from loyalty.engine.models import MemberEvent, RuleAward, RuleBudget

events = MemberEvent.__table__  # type: ignore[attr-defined]
awards = RuleAward.__table__  # type: ignore[attr-defined]
budgets = RuleBudget.__table__  # type: ignore[attr-defined]


def _window(query: Any, column: Any, start: datetime | None, end: datetime | None) -> Any:
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


def purchase_count(session: Session, *, member_id: int, start: datetime, end: datetime) -> int:
    query = select(func.count()).where(events.c.member_id == member_id, events.c.event_type == "purchase")
    return int(session.execute(_window(query, events.c.occurred_at, start, end)).scalar_one())


def spent_cents(session: Session, *, member_id: int, start: datetime, end: datetime) -> int:
    query = select(func.coalesce(func.sum(events.c.amount_cents), 0)).where(
        events.c.member_id == member_id, events.c.event_type.in_(("purchase", "return"))
    )
    return int(session.execute(_window(query, events.c.occurred_at, start, end)).scalar_one())


def rule_usage(
    session: Session, *, member_id: int, rule: str, start: datetime | None, end: datetime | None
) -> tuple[int, int]:
    # Reversal rows (negative points) net the points but are not firings.
    fired = func.coalesce(func.sum(case((awards.c.points >= 0, 1), else_=0)), 0)
    query = select(fired, func.coalesce(func.sum(awards.c.points), 0)).where(
        awards.c.member_id == member_id, awards.c.rule == rule
    )
    fires, points = session.execute(_window(query, awards.c.occurred_at, start, end)).one()
    return int(fires), int(points)


def budget_used(session: Session, *, rule: str) -> int:
    used = session.execute(select(budgets.c.used).where(budgets.c.rule == rule)).scalar()
    return int(used or 0)


def take_budget(session: Session, *, rule: str, points: int, budget: int) -> int:
    """Atomically reserve up to `points` of a rule's budget; returns what was granted.

    The conditional UPDATE holds the row lock until commit, so concurrent tills cannot
    together pass the budget (each re-checks the condition against the committed value).
    """
    if session.execute(select(budgets.c.rule).where(budgets.c.rule == rule)).first() is None:
        upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(upsert(budgets).values(rule=rule, used=0).on_conflict_do_nothing())
    while points > 0:
        result = session.execute(
            update(budgets)
            .where(budgets.c.rule == rule, budgets.c.used + points <= budget)
            .values(used=budgets.c.used + points)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return points
        points = min(points, budget - budget_used(session, rule=rule))
    return 0


def insert_event(session: Session, **values: Any) -> int:
    result = session.execute(insert(events).values(**values).returning(events.c.id))
    return int(result.scalar_one())


def insert_awards(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(awards), rows)


def event_by_key(session: Session, *, idempotency_key: str) -> Any:
    return session.execute(select(events).where(events.c.idempotency_key == idempotency_key)).first()


def purchase_by_receipt(session: Session, *, receipt_id: str) -> Any:
    return session.execute(
        select(events).where(events.c.event_type == "purchase", events.c.reference == receipt_id)
    ).first()


def awards_for_event(session: Session, *, event_id: int) -> list[Any]:
    return list(session.execute(select(awards).where(awards.c.event_id == event_id).order_by(awards.c.id)))


def update_event(session: Session, *, event_id: int, **values: Any) -> None:
    session.execute(update(events).where(events.c.id == event_id).values(**values))
