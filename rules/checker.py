"""Declaration checks of RULES.md (names, purposes, checks 5 and 7, warnings)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import ast as A
from .consteval import const_value
from .diagnostics import Reporter, did_you_mean
from .parser import KEYWORDS
from .schema import BASES, CHANNELS, EVENTS
from .typecheck import ExprChecker, Scope


@cache
def dpv_terms() -> dict[str, list[str]]:
    """The accepted DPV terms (rules/dpv_terms.json, generated from shared/specs)."""
    return json.loads((Path(__file__).parent / "dpv_terms.json").read_text())


@dataclass
class Settings:
    currency: str = "EUR"
    timezone: str = "UTC"
    expiry: A.Duration | None = None
    contact: tuple[int, str] = (1, "week")


@dataclass
class Checked:
    """A checked program: the tree plus what the compiler needs to know about it."""

    module: A.Module
    settings: Settings
    types: dict[int, str]
    rule_fields: dict[str, set[str]] = field(default_factory=dict)  # fields each rule uses
    read_fields: set[str] = field(default_factory=set)
    # (function, amount, unit) of each history figure the rules and tiers read
    history_figures: frozenset[tuple[str, int, str]] = frozenset()


def _where(pos: A.Pos) -> str:
    return f"{pos.filename}:{pos.line}:{pos.column}"


class Checker:
    def __init__(self, module: A.Module, report: Reporter, *, rewards=None, today=None):
        self.m = module
        self.report = report
        self.rewards = None if rewards is None else set(rewards)
        self.today = today or date.today()
        self.types: dict[int, str] = {}

    def run(self) -> Checked:
        for kind, pos in self.m.duplicate_clauses:
            self.report.error(pos, f"duplicate '{kind}' clause")
        settings = self._settings()
        self.purposes = self._unique("purpose", self.m.purposes)
        self.fields = self._unique("field", self.m.fields)
        tiers = self._unique("tier", self.m.tiers)
        rules = self._unique("rule", self.m.rules)
        self.exprs = ExprChecker(self.report, currency=settings.currency, fields=self.fields,
                                 tiers=list(tiers), purposes=self.purposes, types=self.types)
        checked = Checked(self.m, settings, self.types)
        for purpose in self.m.purposes:
            self._purpose(purpose)
        for decl in self.m.fields:
            self._field(decl)
        for tier in self.m.tiers:
            scope = Scope("tier", f"tier '{tier.name}'")
            ty = self.exprs.check(tier.condition, scope)
            self.exprs._want_bool(tier.condition, ty, f"tier '{tier.name}'")
        for rule in self.m.rules:
            checked.rule_fields[rule.name] = self._rule(rule, settings)
        self._groups(rules)
        self._unused(checked)
        checked.history_figures = frozenset(self.exprs.history_figures)
        return checked

    # ---- names
    def _unique(self, kind: str, decls: list) -> dict:
        seen: dict = {}
        for decl in decls:
            if decl.name in KEYWORDS:
                self.report.error(decl.pos, f"'{decl.name}' is a reserved word and cannot "
                                  f"name a {kind}")
            if decl.name in seen:
                first = seen[decl.name]
                self.report.error(decl.pos, f"duplicate {kind} '{decl.name}' (first declared "
                                  f"at {_where(first.pos)})")
            else:
                seen[decl.name] = decl
        return seen

    def _known(self, kind: str, name: str, pos: A.Pos, known) -> bool:
        if name in known:
            return True
        self.report.error(pos, f"unknown {kind} '{name}'" + did_you_mean(name, known))
        return False

    # ---- program block
    def _settings(self) -> Settings:
        settings = Settings()
        for extra in self.m.programs[1:]:
            self.report.error(extra.pos, "duplicate program block (a program has one)")
        if not self.m.programs:
            return settings
        block = self.m.programs[0]
        pos = block.clause_pos
        if block.currency is not None:
            if len(block.currency) != 3 or not block.currency.isupper():
                self.report.error(pos["currency"], f"'{block.currency}' is not a currency code")
            settings.currency = block.currency
        if block.timezone is not None:
            try:
                ZoneInfo(block.timezone)
                settings.timezone = block.timezone
            except (ZoneInfoNotFoundError, ValueError):
                self.report.error(pos["timezone"], f"unknown timezone '{block.timezone}'")
        if block.expiry is not None:
            amount, unit = block.expiry.amount, block.expiry.unit
            if unit in ("years", "weeks"):
                amount, unit = (amount * 12, "months") if unit == "years" else (amount * 7, "days")
            if amount <= 0:
                self.report.error(pos["expiry"], "points must expire after more than zero time")
            settings.expiry = A.Duration(amount, unit)
        if block.contact is not None:
            if block.contact[0] <= 0:
                self.report.error(pos["contact"], "the contact limit must be more than zero")
            settings.contact = block.contact
        return settings

    # ---- purposes and fields
    def _purpose(self, p: A.PurposeDecl) -> None:
        if p.basis is None:
            self.report.error(p.pos, f"purpose '{p.name}' has no basis (one of "
                              f"{', '.join(BASES)})")
        else:
            self._known("basis", p.basis, p.clause_pos["basis"], BASES)
        for channel, pos in p.channels:
            self._known("channel", channel, pos, CHANNELS)
        if p.dpv is not None and p.dpv not in dpv_terms()["purposes"]:
            self.report.warning(p.clause_pos["dpv"], f"unknown DPV purpose '{p.dpv}'"
                                + did_you_mean(p.dpv, dpv_terms()["purposes"]))

    def _field(self, f: A.FieldDecl) -> None:
        if not f.purposes:
            self.report.error(f.pos, f"field '{f.name}' is listed under no purpose")
        for name, pos in f.purposes:
            self._known("purpose", name, pos, self.purposes)
        terms = dpv_terms()
        if f.category is None:
            return
        pos = f.clause_pos["category"]
        if f.category in terms["special_categories"]:
            self.report.warning(pos, f"'{f.category}' is a special category of personal data "
                                "(GDPR Art. 9); a loyalty program should not collect it")
        elif f.category not in terms["personal_data"]:
            self.report.warning(pos, f"unknown DPV personal data category '{f.category}'"
                                + did_you_mean(f.category, terms["personal_data"]))

    # ---- rules
    def _rule(self, r: A.RuleDecl, settings: Settings) -> set[str]:
        owner = f"rule '{r.name}'"
        if r.event is None:
            self.report.error(r.pos, f"{owner} has no 'on' clause")
        elif not self._known("event", r.event, r.clause_pos["event"], EVENTS):
            r.event = None
        if r.purpose is None:
            self.report.error(r.pos, f"{owner} has no 'purpose' clause")
        else:
            self._known("purpose", r.purpose, r.clause_pos["purpose"], self.purposes)
        reads = set()
        for name, pos in r.reads:
            if not self._known("field", name, pos, self.fields):
                continue
            reads.add(name)
            allowed = [p for p, _ in self.fields[name].purposes]
            if r.purpose in self.purposes and r.purpose not in allowed:
                self.report.error(pos, f"{owner} reads field '{name}' for purpose "
                                  f"'{r.purpose}', but the field may only be used for "
                                  f"{', '.join(allowed) or 'no purpose'} (purpose limitation)")
        scope = Scope("rule", owner, r.event, r.purpose, frozenset(reads))
        if r.when is not None:
            ty = self.exprs.check(r.when, scope)
            self.exprs._want_bool(r.when, ty, "'when'")
            if const_value(r.when) is False:
                self.report.warning(r.when.pos, f"{owner} can never fire: its condition is "
                                    "always false")
        self._award(r, scope, settings)
        if r.reward is not None and self.rewards is not None:
            self._known("reward", r.reward, r.clause_pos["reward"], sorted(self.rewards))
        if r.award is None and r.reward is None:
            self.report.error(r.pos, f"{owner} neither awards points nor grants a reward")
        for clause, value in (("cap", r.cap), ("limit", r.limit)):
            if value is not None and value[0] <= 0:
                self.report.error(r.clause_pos[clause], f"a {clause} must be more than zero")
        if r.budget is not None and r.budget <= 0:
            self.report.error(r.clause_pos["budget"], "a budget must be more than zero points")
        if r.valid_from and r.valid_until and r.valid_from > r.valid_until:
            self.report.error(r.clause_pos["valid"], f"valid from {r.valid_from} is after "
                              f"until {r.valid_until}")
        elif r.valid_until and r.valid_until < self.today:
            self.report.warning(r.clause_pos["valid"], f"{owner} can never fire: its validity "
                                f"ended on {r.valid_until}")
        return scope.used_fields

    def _award(self, r: A.RuleDecl, scope: Scope, settings: Settings) -> None:
        award = r.award
        if award is None:
            return
        ty = self.exprs.check(award.amount, scope)
        if award.per is not None:
            amount = const_value(award.amount)
            if not isinstance(amount, int) or isinstance(amount, bool):
                self.report.error(award.amount.pos, "the points of 'award N points per ...' "
                                  "must be a whole number")
            elif amount <= 0:
                self.report.error(award.amount.pos, "an award must be more than zero points")
            if award.per_currency != settings.currency:
                self.report.error(cast(A.Pos, award.per_pos), f"currency {award.per_currency} is not the "
                                  f"program's currency {settings.currency}")
            if award.per <= 0:
                self.report.error(cast(A.Pos, award.per_pos), "'per' needs an amount above zero")
            of_ty = self.exprs.check(cast(A.Expr, award.of), scope)  # set with `per`
            if of_ty not in ("money", "any"):
                self.report.error(cast(A.Expr, award.of).pos, f"'of' needs money, not {of_ty}")
            return
        if ty not in ("number", "any"):
            self.report.error(award.amount.pos, f"an award needs a number of points, not {ty}")
        amount = const_value(award.amount)
        if isinstance(amount, int | Decimal) and not isinstance(amount, bool) and amount < 1:
            self.report.error(award.amount.pos, "an award must be more than zero points")

    def _groups(self, rules: dict) -> None:
        seen: dict[tuple[str, int | None], A.RuleDecl] = {}
        for rule in self.m.rules:
            if rule.group is None:
                continue
            key = (rule.group, rule.priority)
            if key in seen:
                self.report.error(rule.clause_pos["group"], f"rules '{seen[key].name}' and "
                                  f"'{rule.name}' in group '{rule.group}' have the same "
                                  f"priority {rule.priority}")
            else:
                seen[key] = rule

    # ---- warnings of data minimisation
    def _unused(self, checked: Checked) -> None:
        read = {name for r in self.m.rules for name, _ in r.reads}
        checked.read_fields = read & set(self.fields)
        for name, decl in self.fields.items():
            if name not in read:
                self.report.warning(decl.pos, f"field '{name}' is read by no rule: it is "
                                    "collected for nothing (data minimisation)")
        used = {r.purpose for r in self.m.rules}
        used |= {p for f in self.m.fields for p, _ in f.purposes}
        for name, decl in self.purposes.items():
            if decl.basis == "consent" and name not in used:
                self.report.warning(decl.pos, f"consent-based purpose '{name}' is used by no "
                                    "rule and no field")
