"""Programme KPIs, computed from the tables that own them."""

from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlmodel import Session

from loyalty.members.models import Member


def kpis(session: Session, *, now: datetime) -> list[tuple[str, str]]:
    members = session.execute(
        select(func.count()).select_from(Member).where(Member.status == "active")  # type: ignore[arg-type]
    ).scalar_one()
    since = now - timedelta(days=30)
    figures = [("Members", f"{members:,}")]
    purchases, spent = session.execute(
        text(
            "SELECT count(*), coalesce(sum(amount_cents), 0) FROM member_events "
            "WHERE event_type = 'purchase' AND occurred_at >= :since"
        ),
        {"since": since},
    ).one()
    points = session.execute(text("SELECT coalesce(sum(balance), 0) FROM member_balances")).scalar_one()
    figures += [
        ("Purchases, last 30 days", f"{purchases:,}"),
        ("Sales, last 30 days", f"{int(spent) / 100:,.2f}"),
        ("Points outstanding", f"{int(points):,}"),
    ]
    return figures
