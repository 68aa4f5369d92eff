"""Programme KPIs, computed from the tables that own them."""

from datetime import datetime, timedelta

from sqlmodel import Session

from loyalty.engine import repository as engine_repository
from loyalty.ledger import service as ledger_service
from loyalty.members import repository as member_repository


def kpis(session: Session, *, now: datetime) -> list[tuple[str, str]]:
    members = member_repository.count_active(session)
    since = now - timedelta(days=30)
    figures = [("Members", f"{members:,}")]
    purchases, spent = engine_repository.purchase_totals(session, since=since)
    points = ledger_service.points_outstanding(session)
    figures += [
        ("Purchases, last 30 days", f"{purchases:,}"),
        ("Sales, last 30 days", f"{spent / 100:,.2f}"),
        ("Points outstanding", f"{points:,}"),
    ]
    return figures
