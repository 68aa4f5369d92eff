"""MemoryHistory: the History of RULES.md kept in memory, for the simulator and tests.

A member object may carry prior figures under "history" (see rules/README.md):
    {"purchases": [{"at": ISO, "total": "12.50"}],
     "earned": [{"at": ISO, "points": 120}],
     "rules": {"rule_name": [{"at": ISO, "points": 50}]}}
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .runtime import ZERO, money, parse_at


def _inside(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or at >= start) and (end is None or at < end)


class MemoryHistory:
    """Counts what earlier events awarded and bought; implements rules.runtime.History."""

    def __init__(self, timezone: str | ZoneInfo = "UTC"):
        self.tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self.usage: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
        self.budgets: dict[str, int] = defaultdict(int)
        self.bought: dict[str, list[tuple[datetime, Decimal, int]]] = defaultdict(list)
        self.earned: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        self.loaded: set[str] = set()

    # ---- loading prior figures
    def load_member(self, member: dict) -> None:
        """Take a member's "history" object into account, once per member."""
        member_id = str(member.get("id"))
        if member_id in self.loaded:
            return
        self.loaded.add(member_id)
        past = member.get("history") or {}
        for entry in past.get("purchases", ()):
            self.bought[member_id].append((self._at(entry), money(entry.get("total")) or ZERO, 1))
        for entry in past.get("earned", ()):
            self.earned[member_id].append((self._at(entry), int(entry.get("points", 0))))
        for rule, entries in (past.get("rules") or {}).items():
            for entry in entries:
                points = int(entry.get("points", 0))
                self.usage[(member_id, rule)].append((self._at(entry), points))
                self.budgets[rule] += points

    def _at(self, entry: dict) -> datetime:
        return parse_at(entry["at"], self.tz)

    # ---- History
    def rule_usage(self, member_id, rule, start, end) -> tuple[int, int]:
        hits = [p for at, p in self.usage.get((str(member_id), rule), ()) if _inside(at, start, end)]
        return len(hits), sum(hits)

    def budget_used(self, rule: str) -> int:
        return self.budgets.get(rule, 0)

    def purchases(self, member_id, start, end) -> int:
        return sum(n for at, _, n in self.bought.get(str(member_id), ()) if _inside(at, start, end))

    def spent(self, member_id, start, end) -> Decimal:
        return sum((t for at, t, _ in self.bought.get(str(member_id), ())
                    if _inside(at, start, end)), ZERO)

    def earned_points(self, member_id, start, end) -> int:
        return sum(p for at, p in self.earned.get(str(member_id), ()) if _inside(at, start, end))

    def record(self, event: dict, at: datetime, effects) -> None:
        member_id = str((event.get("member") or {}).get("id"))
        kind = event.get("type")
        data = event.get(kind) or {}
        if kind == "purchase":
            self.bought[member_id].append((at, money(data.get("total")) or ZERO, 1))
        elif kind == "return":
            # spent() is net of returns; a return is not a purchase
            self.bought[member_id].append((at, -(money(data.get("total")) or ZERO), 0))
        for effect in effects:
            self.usage[(member_id, effect.rule)].append((at, effect.points))
            self.budgets[effect.rule] += effect.points
            if effect.points:
                self.earned[member_id].append((at, effect.points))

    def copy(self) -> MemoryHistory:
        other = MemoryHistory(self.tz)
        for name in ("usage", "bought", "earned"):
            getattr(other, name).update({k: list(v) for k, v in getattr(self, name).items()})
        other.budgets.update(self.budgets)
        other.loaded = set(self.loaded)
        return other
