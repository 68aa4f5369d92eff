"""The rules' History for a till purchase: caps, limits, budgets and history figures read with
plain statements on the purchase's own transaction (purchase_sql reads the figures the program
lists together with the member's state; these are for anything else it asks)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from loyalty.engine.history import DatabaseHistory
from loyalty.pos.raw import Raw

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
FIGURES = {"purchases": PURCHASE_COUNT, "spent": SPENT_CENTS, "earned_points": EARNED_POINTS}


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
        row = raw.one(FIGURES[function], window + window if function == "earned_points" else window)
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
