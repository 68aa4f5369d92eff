"""The rules' History interface answered from the database (ledger, events, rule awards)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from loyalty.engine import repository
from loyalty.ledger import service as ledger_service


class DatabaseHistory:
    """What caps, limits, budgets and history functions need to know of the past.

    `exclude_event_id` leaves one event's own awards out, so a purchase can be re-evaluated
    for a return without counting itself against its caps.

    Earned-points totals are remembered per window and kept current by `credited()`, so the
    tier computed after booking an event's points reuses the figure its rules already read
    (the engine holds the member's lock: nobody else books for the member meanwhile).
    """

    def __init__(self, session: Session, *, exclude_event_id: int | None = None) -> None:
        self.session = session
        self.exclude_event_id = exclude_event_id
        self._excluded: dict[str, tuple[int, int]] | None = None
        self._earned: dict[tuple[str, datetime, datetime], int] = {}

    def _own(self, rule: str) -> tuple[int, int]:
        if self.exclude_event_id is None:
            return 0, 0
        if self._excluded is None:
            self._excluded = {}
            for row in repository.awards_for_event(self.session, event_id=self.exclude_event_id):
                fires, points = self._excluded.get(row.rule, (0, 0))
                self._excluded[row.rule] = (fires + 1, points + row.points)
        return self._excluded.get(rule, (0, 0))

    def rule_usage(
        self, member_id: str, rule: str, start: datetime | None, end: datetime | None
    ) -> tuple[int, int]:
        fires, points = repository.rule_usage(
            self.session, member_id=int(member_id), rule=rule, start=start, end=end
        )
        own_fires, own_points = self._own(rule)
        return fires - own_fires, points - own_points

    def budget_used(self, rule: str) -> int:
        return repository.budget_used(self.session, rule=rule) - self._own(rule)[1]

    def purchases(self, member_id: str, start: datetime, end: datetime) -> int:
        return repository.purchase_count(self.session, member_id=int(member_id), start=start, end=end)

    def spent(self, member_id: str, start: datetime, end: datetime) -> Decimal:
        cents = repository.spent_cents(self.session, member_id=int(member_id), start=start, end=end)
        return Decimal(cents) / 100

    def earned_points(self, member_id: str, start: datetime, end: datetime) -> int:
        key = (str(member_id), start, end)
        if key not in self._earned:
            self._earned[key] = self._earned_total(int(member_id), start, end)
        return self._earned[key]

    def _earned_total(self, member_id: int, start: datetime, end: datetime) -> int:
        return int(ledger_service.earned_points(self.session, member_id=member_id, start=start, end=end))

    def credited(self, member_id: str, points: int, occurred_at: datetime) -> None:
        """Points just earned by the member (a new earn entry), for the remembered totals."""
        for member, start, end in self._earned:
            if member == str(member_id) and start <= occurred_at < end:
                self._earned[member, start, end] += points

    def record(self, event: dict[str, Any], at: datetime, effects: list[Any]) -> None:
        """The engine books effects itself, in the same transaction."""
