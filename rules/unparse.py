"""Canonical source text of an expression (for why-texts and shared-condition keys)."""

from __future__ import annotations

from typing import cast

from . import ast as A

_PRECEDENCE = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "in": 4, "not in": 4, "+": 5, "-": 5, "*": 6, "/": 6}


def literal_text(e: A.Literal) -> str:
    if e.kind == "string":
        return '"' + str(e.value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if e.kind == "money":
        return f"{e.value} {e.currency}"
    if e.kind == "duration":
        amount, unit = e.value.amount, e.value.unit
        return f"{amount} {unit[:-1] if amount == 1 else unit}"
    if e.kind == "bool":
        return "true" if e.value else "false"
    return str(e.value)


def unparse(e: A.Expr, parent: int = 0) -> str:
    if isinstance(e, A.Literal):
        return literal_text(e)
    if isinstance(e, A.Name):
        return e.name
    if isinstance(e, A.Attr):
        return f"{unparse(e.obj, 9)}.{e.attr}"
    if isinstance(e, A.Call):
        return f"{e.func}({', '.join(unparse(a) for a in e.args)})"
    if isinstance(e, A.ListExpr):
        return "[" + ", ".join(unparse(i) for i in e.items) + "]"
    if isinstance(e, A.Unary):
        if e.op == "not":
            text, prec = f"not {unparse(e.operand, 3)}", 3
        else:
            text, prec = f"-{unparse(e.operand, 7)}", 7
        return f"({text})" if prec < parent else text
    if isinstance(e, A.Binary):
        prec = _PRECEDENCE[e.op]
        right_prec = prec + 1 if prec >= 4 else prec
        text = f"{unparse(e.left, prec)} {e.op} {unparse(e.right, right_prec)}"
        return f"({text})" if prec < parent else text
    if isinstance(e, A.Quant):
        where = f" where {unparse(e.cond)}" if e.cond is not None else ""
        if e.kind == "sum":
            text = f"sum {unparse(cast(A.Expr, e.value), 5)} for {e.var} in {unparse(e.iterable, 5)}{where}"
        else:
            text = f"{e.kind} {e.var} in {unparse(e.iterable, 5)}{where}"
        return f"({text})" if parent else text
    raise TypeError(type(e))
