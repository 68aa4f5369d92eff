"""Expressions of the checked tree → Python expression source (never user text verbatim)."""

from __future__ import annotations

from collections.abc import Callable

from . import ast as A
from .schema import HISTORY_FUNCTIONS
from .unparse import unparse

# Python locals holding the event's data, read once per event.
MEMBER_LOCALS = {"tier": "m_tier", "points": "m_points", "joined_at": "m_joined"}
TIME_LOCALS = {"at": "at", "date": "d"}


def cost(e: A.Expr) -> int:
    """Rough evaluation cost, so that cheap conditions run before loops and history."""
    if isinstance(e, A.Quant):
        return 50 + cost(e.iterable) + (cost(e.cond) if e.cond else 0)
    if isinstance(e, A.Call):
        return (100 if e.func in HISTORY_FUNCTIONS else 3) + sum(map(cost, e.args))
    if isinstance(e, A.Binary):
        return 1 + cost(e.left) + cost(e.right)
    if isinstance(e, A.Unary):
        return 1 + cost(e.operand)
    if isinstance(e, A.ListExpr):
        return sum(map(cost, e.items))
    if isinstance(e, A.Attr):
        return 1 + cost(e.obj)
    return 0


def conjuncts(e: A.Expr | None) -> list[A.Expr]:
    """The top-level `and` operands of a condition, cheapest first (order is stable)."""
    if e is None:
        return []
    out: list[A.Expr] = []

    def walk(node: A.Expr) -> None:
        if isinstance(node, A.Binary) and node.op == "and":
            walk(node.left)
            walk(node.right)
        else:
            out.append(node)

    walk(e)
    return sorted(out, key=cost)


class ExprGen:
    """Generates Python for one expression; constants go through `const` (repr-safe names)."""

    def __init__(self, types: dict[int, str], tiers: dict[str, int],
                 const: Callable[[object], str], uses: set[str]):
        self.types = types
        self.tiers = tiers
        self.const = const
        self.uses = uses  # names of locals the generated code needs (m_tier, e_total, ...)

    def gen(self, e: A.Expr, env: dict[str, str] | None = None) -> str:
        return getattr(self, "_" + type(e).__name__.lower())(e, env or {})

    def _literal(self, e: A.Literal, env) -> str:
        if e.kind in ("string", "weekday"):
            return repr(str(e.value))
        if e.kind == "bool":
            return repr(bool(e.value))
        if e.kind == "number" and isinstance(e.value, int):
            return repr(e.value)
        return self.const(e.value)

    def _name(self, e: A.Name, env) -> str:
        if e.name in env:
            return env[e.name]
        return repr(self.tiers[e.name])

    def _attr(self, e: A.Attr, env) -> str:
        obj = e.obj
        if isinstance(obj, A.Name) and obj.name not in env:
            if obj.name == "member":
                local = MEMBER_LOCALS.get(e.attr, "p_" + e.attr)
            else:
                local = TIME_LOCALS.get(e.attr, "e_" + e.attr)
            self.uses.add(local)
            return local
        item = self.gen(obj, env)
        if e.attr == "price":
            return f"_money({item}.get('price'))"
        if e.attr == "quantity":
            return f"_number({item}.get('quantity', 1))"
        return f"{item}.get({e.attr!r})"

    def _call(self, e: A.Call, env) -> str:
        if e.func in HISTORY_FUNCTIONS:
            duration = e.args[0].value
            self.uses.add("ctx")
            return f"ctx.figure(history, {e.func!r}, {duration.amount!r}, {duration.unit!r})"
        arg = self.gen(e.args[0], env)
        if e.func in ("year", "month", "day", "hour"):
            return f"{arg}.{e.func}"
        if e.func == "weekday":
            return f"_WEEKDAYS[{arg}.weekday()]"
        self.uses.add("d")
        return f"_{e.func}({arg}, d)"

    def _unary(self, e: A.Unary, env) -> str:
        operand = self.gen(e.operand, env)
        return f"(not {operand})" if e.op == "not" else f"(-{operand})"

    def _listexpr(self, e: A.ListExpr, env) -> str:
        if all(isinstance(i, A.Literal | A.Name) and (isinstance(i, A.Literal) or i.name
               not in env) for i in e.items):
            values = []
            for item in e.items:
                values.append(self.tiers[item.name] if isinstance(item, A.Name) else item.value)
            return self.const(frozenset(values) if values else ())
        return "(" + "".join(self.gen(i, env) + ", " for i in e.items) + ")"

    def _binary(self, e: A.Binary, env) -> str:
        left, right = self.gen(e.left, env), self.gen(e.right, env)
        op = e.op
        if op in ("+", "-") and self.types.get(id(e.right)) == "duration":
            duration = e.right.value
            amount = duration.amount if op == "+" else -duration.amount
            return f"_shift({left}, {amount!r}, {duration.unit!r})"
        if op == "/":
            return f"_divide({left}, {right})"
        return f"({left} {op} {right})"

    def _quant(self, e: A.Quant, env) -> str:
        var = f"v{len(env)}_{e.var}"
        inner = {**env, e.var: var}
        iterable = self.gen(e.iterable, env)
        cond = self.gen(e.cond, inner) if e.cond is not None else None
        if e.kind in ("any", "all"):
            return f"{e.kind}({cond} for {var} in {iterable})"
        if e.kind == "count":
            return f"sum(1 for {var} in {iterable} if {cond})"
        value = self.gen(e.value, inner)
        start = "_ZERO" if self.types.get(id(e)) == "money" else "0"
        where = f" if {cond}" if cond is not None else ""
        return f"sum(({value} for {var} in {iterable}{where}), {start})"


def key_of(e: A.Expr) -> str:
    """Structural identity of a condition, to evaluate one shared by rules only once."""
    return unparse(e)
