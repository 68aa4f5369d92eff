"""Why a rule fired (the conditions that held, with the values read) and why another did not.

Built only when asked for: the compiled fast path stores nothing but the event, the history
figures it read and the few limits it hit (EventContext); this module re-reads the rest.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import cast

from . import ast as A
from . import runtime as rt
from .interpret import EVAL_ERRORS, Evaluator, award_points, run_rule
from .unparse import unparse


def fmt(value, program, ty: str | None = None) -> str:
    """A value as a marketer reads it: 60.00 EUR, gold, 2026-12-05, "coffee"."""
    if ty == "tier":
        names = list(program.tier_index)
        return names[value] if 0 <= value < len(names) else "none"
    if ty == "money" and isinstance(value, Decimal | int):
        return f"{value} {program.currency}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value if ty == "weekday" else f'"{value}"'
    if isinstance(value, list | tuple):
        return f"{len(value)} entries"
    return str(value)


def _is_constant(e: A.Expr, program) -> bool:
    return isinstance(e, A.Literal) or (isinstance(e, A.Name) and e.name in program.tier_index) \
        or (isinstance(e, A.ListExpr) and all(_is_constant(i, program) for i in e.items))


def describe(e: A.Expr, ev: Evaluator, held: bool) -> str:
    """One condition with the values read, e.g. `purchase.total = 60.00 EUR >= 50 EUR`."""
    program = ev.program
    types = program._checked.types
    if isinstance(e, A.Binary) and e.op not in ("and", "or", "+", "-", "*", "/"):
        left = unparse(e.left, 5)
        lvalue = fmt(ev.value(e.left), program, types.get(id(e.left)))
        if _is_constant(e.right, program):
            right = unparse(e.right, 5)
        else:
            right = f"{unparse(e.right, 5)} = {fmt(ev.value(e.right), program, types.get(id(e.right)))}"
        if _is_constant(e.left, program):
            text = f"{left} {e.op} {right}"
        elif held and e.op == "==" and _is_constant(e.right, program):
            return f"{left} = {lvalue}"
        else:
            text = f"{left} = {lvalue} {e.op} {right}"
        return text if held else f"not: {text}"
    if isinstance(e, A.Quant) and e.kind in ("any", "all"):
        items = ev.value(e.iterable)
        matching = sum(1 for item in items if ev.value(cast(A.Expr, e.cond), {e.var: item}))
        text = f"{unparse(e)} ({matching} of {len(items)} match)"
        return text if held else f"not: {text}"
    text = unparse(e)
    return text if held else f"not: {text}"


def _period(period: str | None) -> str:
    return f" per {period}" if period else ""


def why_fired(effect: rt.Effect) -> str:
    info, ctx = effect.info, effect.ctx
    decl: A.RuleDecl = info.decl
    ev = Evaluator(ctx.program, ctx, None)
    parts = []
    try:
        parts = [describe(c, ev, True) for c in _flatten(decl.when)]  # the conditions as written
        award = decl.award
        if award is not None and award.per is not None:
            of = fmt(ev.value(cast(A.Expr, award.of)), ctx.program, "money")
            parts.append(f"{info.award} = {of} → {award_points(ev, award)} points")
        elif award is not None and not isinstance(award.amount, A.Literal):
            parts.append(f"award {unparse(award.amount)} = {ev.value(award.amount)}")
    except EVAL_ERRORS:  # pragma: no cover - the fast path already evaluated these
        pass
    if not parts:
        parts.append(f"every {info.event}")
    if info.consent_required:
        parts.append(f"consent to {info.purpose}")
    reason = (ctx.reasons or {}).get(info.index)
    if reason and reason[0] == "cap":
        cap, period = cast("tuple[int, str | None]", decl.cap)
        parts.append(f"cut to {effect.points} points by cap {cap} points per member"
                     f"{_period(period)} ({reason[1][1]} already awarded)")
    elif reason and reason[0] == "budget":
        parts.append(f"cut to {effect.points} points by budget {decl.budget} points "
                     f"({reason[1]} already awarded)")
    return "; ".join(parts)


def _flatten(e: A.Expr | None) -> list[A.Expr]:
    if e is None:
        return []
    if isinstance(e, A.Binary) and e.op == "and":
        return _flatten(e.left) + _flatten(e.right)
    return [e]


def why_not(info, ctx: rt.EventContext) -> str:
    decl: A.RuleDecl = info.decl
    reason = (ctx.reasons or {}).get(info.index)
    if reason is not None:
        kind, data = reason
        if kind == "group":
            return f"lost to higher priority rule '{data}' in group '{info.group}'"
        if kind == "limit":
            count, period = cast("tuple[int, str | None]", decl.limit)
            return f"limit reached: fired {data[0]} of {count} times per member{_period(period)}"
        if kind == "cap":
            cap, period = cast("tuple[int, str | None]", decl.cap)
            return f"cap reached: {data[1]} of {cap} points per member{_period(period)}"
        if kind == "budget":
            return f"budget reached: {data} of {decl.budget} points"
    ev = Evaluator(ctx.program, ctx, ctx.history)
    outcome = run_rule(ctx.program, info, ev, None)
    stage = outcome.stage
    if stage == "valid":
        window = " ".join(
            part for part in (f"from {decl.valid_from}" if decl.valid_from else "",
                              f"until {decl.valid_until}" if decl.valid_until else "") if part)
        return f"outside validity window (valid {window}; event on {outcome.detail})"
    if stage == "consent":
        return f"no consent for purpose {info.purpose}"
    if stage == "shared":
        return "not shared: " + ", ".join(cast("list[str]", outcome.detail))
    if stage == "condition":
        return describe(cast(A.Expr, outcome.failed), ev, False)
    if stage == "award":
        return f"award is {outcome.points} points ({info.award})"
    if stage == "error":
        return f"could not be evaluated: missing or invalid data ({outcome.detail})"
    return "did not fire"


def why_not_fired(result: rt.Result) -> list[rt.NotFired]:
    ctx = result.ctx
    fired = {index for index, _ in result.raw}
    event_type = ctx.event.get("type", "")
    return [rt.NotFired(info.name, why_not(info, ctx))
            for info in ctx.program.rules_for(event_type) if info.index not in fired]
