"""A plain tree-walking evaluator: the reference semantics, and the values behind why-texts.

The compiled program is the fast path; this walks the same checked tree slowly and simply.
explain.py uses it to say why a rule fired or not, and the property tests check that the
compiled program agrees with `interpret()` on generated events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from . import ast as A
from . import runtime as rt
from .codegen import conjuncts
from .schema import HISTORY_FUNCTIONS

if TYPE_CHECKING:
    from .program import RuleInfo

_READERS: dict[str, Callable[[Any], Any]] = {
    "text": rt.as_text, "choice": rt.as_text, "number": rt.number, "date": rt.as_date,
    "bool": rt.as_bool}
EVAL_ERRORS = (TypeError, AttributeError, ValueError, ArithmeticError, KeyError)


class Evaluator:
    """Values of expressions for one event (or one member, for tiers and audiences)."""

    def __init__(self, program, ctx: rt.EventContext, history=None):
        self.program = program
        self.ctx = ctx
        self.history = history
        self.event = ctx.event
        self.member = self.event.get("member") or {}
        self.data = self.event.get(self.event.get("type", ""), None) or {}

    def local_time(self):
        return self.ctx.local_time()

    def today(self):
        return self.local_time().date()

    def profile(self, name: str):
        profile = self.member.get("profile") or {}
        return _READERS[self.program.field_types[name]](profile.get(name))

    def value(self, e: A.Expr, env: dict | None = None):
        env = env or {}
        if isinstance(e, A.Literal):
            return e.value
        if isinstance(e, A.Name):
            return env[e.name] if e.name in env else self.program.tier_index[e.name]
        if isinstance(e, A.Attr):
            return self._attr(e, env)
        if isinstance(e, A.Call):
            return self._call(e, env)
        if isinstance(e, A.Unary):
            operand = self.value(e.operand, env)
            return (not operand) if e.op == "not" else -operand
        if isinstance(e, A.ListExpr):
            return [self.value(i, env) for i in e.items]
        if isinstance(e, A.Quant):
            return self._quant(e, env)
        return self._binary(cast(A.Binary, e), env)

    def _attr(self, e: A.Attr, env):
        obj = e.obj
        if isinstance(obj, A.Name) and obj.name not in env:
            if obj.name == "member":
                if e.attr == "tier":
                    return self.program.tier_index.get(self.member.get("tier"), -1)
                if e.attr == "points":
                    return rt.number(self.member.get("points")) or 0
                if e.attr == "joined_at":
                    return rt.as_date(self.member.get("joined_at"))
                return self.profile(e.attr)
            if e.attr == "at":
                return self.local_time()
            if e.attr == "date":
                return self.today()
            if e.attr == "total":
                return rt.money(self.data.get("total")) or rt.ZERO
            if e.attr == "items":
                return self.data.get("items") or ()
            return self.data.get(e.attr) or ""
        item = self.value(obj, env)
        if e.attr == "price":
            return rt.money(item.get("price"))
        if e.attr == "quantity":
            return rt.number(item.get("quantity", 1))
        return item.get(e.attr)

    def _call(self, e: A.Call, env):
        if e.func in HISTORY_FUNCTIONS:
            duration = cast(A.Literal, e.args[0]).value
            return self.ctx.figure(self.history, e.func, duration.amount, duration.unit)
        arg = self.value(e.args[0], env)
        if e.func in ("year", "month", "day", "hour"):
            return getattr(arg, e.func)
        if e.func == "weekday":
            return rt.weekday(arg)
        if e.func == "age":
            return rt.age(arg, self.today())
        return rt.days_since(arg, self.today())

    def _quant(self, e: A.Quant, env):
        items = self.value(e.iterable, env)

        def matching() -> Iterator[dict]:
            for item in items:
                inner = {**env, e.var: item}
                if e.cond is None or self.value(e.cond, inner):
                    yield inner

        if e.kind == "any":
            return any(True for _ in matching())
        if e.kind == "all":
            return all(self.value(cast(A.Expr, e.cond), {**env, e.var: item}) for item in items)
        if e.kind == "count":
            return sum(1 for _ in matching())
        start = rt.ZERO if isinstance(e.value, A.Expr) and self._is_money(e) else 0
        return sum((self.value(cast(A.Expr, e.value), inner) for inner in matching()), start)

    def _is_money(self, e: A.Quant) -> bool:
        return self.program._checked.types.get(id(e)) == "money"

    def _binary(self, e: A.Binary, env):
        if e.op == "and":
            return bool(self.value(e.left, env)) and bool(self.value(e.right, env))
        if e.op == "or":
            return bool(self.value(e.left, env)) or bool(self.value(e.right, env))
        left = self.value(e.left, env)
        if isinstance(e.right, A.Literal) and e.right.kind == "duration":
            duration = e.right.value
            sign = 1 if e.op == "+" else -1
            return rt.shift(left, sign * duration.amount, duration.unit)
        right = self.value(e.right, env)
        op = e.op
        if op == "in":
            return left in right
        if op == "not in":
            return left not in right
        if op == "/":
            return rt.divide(left, right)
        return _OPS[op](left, right)


_OPS = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
}


def award_points(ev: Evaluator, award: A.Award | None) -> int:
    if award is None:
        return 0
    if award.per is not None:
        return rt.per_points(cast(A.Literal, award.amount).value, award.per,
                             ev.value(cast(A.Expr, award.of)))
    return rt.floor_points(ev.value(award.amount))


@dataclass
class Outcome:
    """How one rule went for one event: `stage` is where it stopped ("fired" if it did)."""

    stage: str  # valid | consent | shared | condition | award | limit | cap | budget | fired
    points: int = 0
    failed: A.Expr | None = None
    detail: object = None


def run_rule(program, info, ev: Evaluator, history) -> Outcome:
    """The reference semantics of one rule (before group resolution)."""
    decl: A.RuleDecl = info.decl
    today = ev.today() if (decl.valid_from or decl.valid_until) else None
    if (decl.valid_from and cast(date, today) < decl.valid_from) or (
            decl.valid_until and cast(date, today) > decl.valid_until):
        return Outcome("valid", detail=today)
    if info.consent_required and info.purpose not in (ev.member.get("consents") or ()):
        return Outcome("consent")
    used_fields = program._checked.rule_fields.get(info.name, set())
    missing = sorted(name for name in used_fields if ev.profile(name) is None)
    if missing:
        return Outcome("shared", detail=missing)
    try:
        for conj in conjuncts(decl.when):
            if not ev.value(conj):
                return Outcome("condition", failed=conj)
        points = award_points(ev, decl.award)
    except EVAL_ERRORS as err:
        return Outcome("error", detail=err)
    if points <= 0 and info.reward is None:
        return Outcome("award", points=points)
    member_id = str(ev.member.get("id"))
    at = ev.local_time()
    if decl.limit is not None:
        used = (history.rule_usage(member_id, info.name, *rt.period_bounds(at, decl.limit[1]))
                if history is not None else (0, 0))
        if used[0] >= decl.limit[0]:
            return Outcome("limit", detail=used)
    cut = None
    if decl.cap is not None:
        used = (history.rule_usage(member_id, info.name, *rt.period_bounds(at, decl.cap[1]))
                if history is not None else (0, 0))
        if points > decl.cap[0] - used[1]:
            points, cut = max(decl.cap[0] - used[1], 0), ("cap", used)
            if points <= 0 and info.reward is None:
                return Outcome("cap", detail=used)
    if decl.budget is not None:
        spent = history.budget_used(info.name) if history is not None else 0
        if points > decl.budget - spent:
            points, cut = max(decl.budget - spent, 0), ("budget", spent)
            if points <= 0 and info.reward is None:
                return Outcome("budget", detail=spent)
    return Outcome("fired", points=points, detail=cut)


@dataclass
class PlainEffect:
    rule: str
    points: int
    reward: str | None


def interpret(program, event: dict, history=None) -> list[PlainEffect]:
    """Reference evaluation of one event: the effects, without the compiled fast path."""
    ctx = rt.EventContext(program, event, None)
    ev = Evaluator(program, ctx, history)
    fired = []
    for info in program.rules_for(event.get("type", "")):
        outcome = run_rule(program, info, ev, history)
        if outcome.stage == "fired":
            fired.append((info, outcome.points))
    best: dict[str, RuleInfo] = {}
    for info, _ in fired:
        if info.group is not None and (info.group not in best
                                       or info.priority > best[info.group].priority):
            best[info.group] = info
    effects = [PlainEffect(info.name, points, info.reward) for info, points in fired
               if info.group is None or best[info.group] is info]
    if history is not None:
        history.record(event, ctx.local_time(), effects)
    return effects


def money_text(value: Decimal, currency: str) -> str:
    return f"{value} {currency}"
