"""A compiled program: plain data about its declarations plus the generated evaluator."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from . import ast as A
from .runtime import History, Result, parse_at, shift
from .unparse import literal_text, unparse


@dataclass(slots=True)
class Expiry:
    amount: int
    unit: str  # "months" | "days"


@dataclass(slots=True)
class ContactLimit:
    count: int
    period: str  # day | week | month | year


@dataclass(slots=True)
class PurposeInfo:
    name: str
    title: str
    text: str | None
    basis: str | None
    channels: list[str]
    dpv: str | None
    line: int
    filename: str = ""


@dataclass(slots=True)
class FieldInfo:
    name: str
    type: str  # text | number | date | bool | choice
    label: str
    ask: str | None
    category: str | None
    purposes: list[str]
    options: list[str]
    line: int = 0
    filename: str = ""


@dataclass(slots=True)
class TierInfo:
    name: str
    condition: str
    title: str | None = None
    line: int = 0


@dataclass(slots=True)
class RuleInfo:
    name: str
    title: str
    event: str | None
    purpose: str | None
    reads: list[str]
    award: str | None  # e.g. "2 points per 1 EUR of purchase.total"
    reward: str | None
    cap: tuple[int, str | None] | None
    limit: tuple[int, str | None] | None
    budget: int | None
    valid_from: date | None
    valid_until: date | None
    group: str | None
    priority: int | None
    pending: A.Duration | None
    source: str
    line: int = 0
    filename: str = ""
    index: int = 0
    consent_required: bool = False
    decl: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "decl"}
        for key in ("valid_from", "valid_until"):
            data[key] = data[key].isoformat() if data[key] else None
        data["pending"] = asdict(self.pending) if self.pending else None
        data["cap"] = list(self.cap) if self.cap else None
        data["limit"] = list(self.limit) if self.limit else None
        return data


def describe_award(award: A.Award | None) -> str | None:
    if award is None:
        return None
    amount = unparse(award.amount)
    unit = "point" if amount == "1" else "points"
    if award.per is not None:
        return f"{amount} {unit} per {award.per} {award.per_currency} of {unparse(cast(A.Expr, award.of))}"
    return f"{amount} {unit}"


class Program:
    """What the engine, the portal and the admin need of a compiled rules program."""

    def __init__(self, *, settings, purposes, fields, tiers, rules, read_fields, source,
                 warnings, tier_names):
        self.currency: str = settings.currency
        self.timezone: str = settings.timezone
        self.tz = ZoneInfo(settings.timezone)
        expiry = settings.expiry
        self.points_expiry = Expiry(expiry.amount, expiry.unit) if expiry else None
        self.contact_limit = ContactLimit(*settings.contact)
        self.purposes: list[PurposeInfo] = purposes
        self.fields: list[FieldInfo] = fields
        self.tiers: list[TierInfo] = tiers
        self.rules: list[RuleInfo] = rules
        self.read_fields: set[str] = read_fields
        self.source: list[tuple[str, str]] = source
        self.warnings = warnings
        self.tier_index = {name: i for i, name in enumerate(tier_names)}
        self.field_types = {f.name: f.type for f in fields}
        self._rules_by_event: dict[str, list[RuleInfo]] = {}
        for rule in rules:
            self._rules_by_event.setdefault(rule.event or "", []).append(rule)
        # (function, amount, unit) of every history figure the rules and tiers may read, e.g.
        # ("spent", 90, "days"): callers may fetch them together, before evaluating.
        self.history_figures: frozenset[tuple[str, int, str]] = frozenset()
        self._evaluate = None
        self._tier_function = None
        self._checked = None

    def rules_for(self, event_type: str) -> list[RuleInfo]:
        return self._rules_by_event.get(event_type, [])

    def evaluate(self, event: dict, history: History | None = None) -> Result:
        """Effects of one event (shaped like a line of EVENTS.jsonl); see RULES.md."""
        return self._evaluate(event, history)

    def history_windows(self, at: datetime | str) -> list[tuple[str, datetime, datetime]]:
        """(function, start, end) of each of history_figures for an event at `at`: the windows
        evaluate() asks its History for, to fetch them all at once beforehand."""
        local = parse_at(at, self.tz)
        return [(func, shift(local, -amount, unit), local)
                for func, amount, unit in sorted(self.history_figures)]

    def compute_tier(self, member_id: str, at: datetime | str, history: History | None,
                     *, member: dict | None = None) -> str | None:
        """The highest declared tier whose condition holds for the member at `at`."""
        return self._tier_function(member_id, at, history, member)

    def compile_condition(self, text: str, *, purpose: str):
        """An audience condition over member.* checked as a rule of `purpose` would be."""
        from .audience import compile_condition

        return compile_condition(self, text, purpose=purpose)

    @property
    def generated_source(self) -> str:
        return self._evaluate.source

    def to_dict(self) -> dict:
        return {
            "currency": self.currency,
            "timezone": self.timezone,
            "points_expiry": asdict(self.points_expiry) if self.points_expiry else None,
            "contact_limit": asdict(self.contact_limit),
            "purposes": [asdict(p) for p in self.purposes],
            "fields": [asdict(f) for f in self.fields],
            "tiers": [asdict(t) for t in self.tiers],
            "rules": [r.to_dict() for r in self.rules],
            "read_fields": sorted(self.read_fields),
            "source": [list(s) for s in self.source],
            "warnings": [w.to_dict() for w in self.warnings],
        }


def literal_source(e: A.Literal) -> str:
    return literal_text(e)
