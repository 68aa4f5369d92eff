"""Conditions over a member alone: tier conditions and the admin's campaign audiences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import ast as A
from .codegen import ExprGen
from .compiler import Emitter, base_namespace
from .diagnostics import CompileError, Reporter
from .parser import parse_condition
from .typecheck import ExprChecker, Scope

_ERRORS = "(TypeError, AttributeError, ValueError, ArithmeticError)"
_READERS = {"text": "_text", "choice": "_text", "number": "_number", "date": "_date",
            "bool": "_bool"}


def _predicates(program, conditions: list[tuple[str, A.Expr]], types: dict, fields: set[str],
                default: str) -> Callable:
    """One generated function: the first of `conditions` (tried in order) that holds wins."""
    out = Emitter()
    out.namespace.update(base_namespace())
    out.namespace.update(_PROGRAM=program, _TZ=program.tz, _TIERS=program.tier_index)
    uses: set[str] = set()
    gen = ExprGen(types, program.tier_index, out.const, uses)
    body = []
    for result, expr in conditions:
        body.append(f"    try:\n        if {gen.gen(expr)}:\n            return {result}")
        body.append(f"    except {_ERRORS}:\n        pass")
    out.emit(0, "def predicate(member, at, history=None):")
    out.emit(1, "member = member or _EMPTY")
    out.emit(1, "mid = str(member.get('id'))")
    out.emit(1, "fig = {}")
    out.emit(1, "at = _parse_at(at, _TZ)")
    out.emit(1, "d = at.date()")
    out.emit(1, "m_tier = _TIERS.get(member.get('tier'), -1)")
    out.emit(1, "m_points = _number(member.get('points')) or 0")
    out.emit(1, "m_joined = _date(member.get('joined_at'))")
    out.emit(1, "profile = member.get('profile') or _EMPTY")
    for name in sorted(fields):
        out.emit(1, f"p_{name} = {_READERS[program.field_types[name]]}(profile.get({name!r}))")
        out.emit(1, f"if p_{name} is None:")
        out.emit(2, f"return {default}")
    out.lines.extend(body)
    out.emit(1, f"return {default}")
    source = "\n".join(out.lines) + "\n"
    exec(compile(source, "<rules condition>", "exec"), out.namespace)  # noqa: S102
    return out.namespace["predicate"]


def tier_function(program, tiers: list[A.TierDecl], types: dict) -> Callable:
    """compute_tier: the highest declared tier whose condition holds."""
    conditions = [(repr(t.name), t.condition) for t in reversed(tiers)]
    predicate = _predicates(program, conditions, types, set(), "None")

    def compute_tier(member_id: str, at, history, member: dict | None):
        return predicate({**(member or {}), "id": member_id}, at, history)

    return compute_tier


class Condition:
    """A compiled audience condition: `Condition(member, at, history=None) -> bool`."""

    def __init__(self, text: str, purpose: str, predicate: Callable, fields: set[str]):
        self.text = text
        self.purpose = purpose
        self.fields = fields  # profile fields the condition reads
        self._predicate = predicate

    def __call__(self, member: dict, at: datetime | str, history=None) -> bool:
        return self._predicate(member, at, history)


def compile_condition(program, text: str, *, purpose: str) -> Condition:
    filename = "<audience>"
    expr, diagnostics = parse_condition(text, filename)
    if expr is None:
        raise CompileError(diagnostics)
    report = Reporter()
    checked = program._checked
    purposes = {p.name: p for p in checked.module.purposes}
    if purpose not in purposes:
        report.error(A.Pos(filename, 1, 1), f"unknown purpose '{purpose}'")
    types: dict[int, str] = {}
    fields = {f.name: f for f in checked.module.fields}
    exprs = ExprChecker(report, currency=program.currency, fields=fields,
                        tiers=list(program.tier_index), purposes=purposes, types=types)
    scope = Scope("audience", "an audience", purpose=purpose)
    exprs._want_bool(expr, exprs.check(expr, scope), "an audience")
    if report.has_errors:
        raise CompileError(report.sorted())
    predicate = _predicates(program, [("True", expr)], types, scope.used_fields, "False")
    return Condition(text, purpose, predicate, scope.used_fields)
