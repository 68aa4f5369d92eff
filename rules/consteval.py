"""Constant folding, for the 'can never fire' warning and the award checks."""

from __future__ import annotations

from decimal import Decimal

from . import ast as A

UNKNOWN = object()

_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def const_value(e: A.Expr | None):
    """The value of an expression that needs no event, or UNKNOWN."""
    if isinstance(e, A.Literal):
        if e.kind in ("number", "string", "money", "date", "bool", "weekday"):
            return e.value
        return UNKNOWN
    if isinstance(e, A.Unary):
        value = const_value(e.operand)
        if value is UNKNOWN:
            return UNKNOWN
        if e.op == "not":
            return (not value) if isinstance(value, bool) else UNKNOWN
        return -value if isinstance(value, int | Decimal) else UNKNOWN
    if isinstance(e, A.Binary):
        left, right = const_value(e.left), const_value(e.right)
        if e.op == "and":
            if left is False or right is False:
                return False
            return True if (left is True and right is True) else UNKNOWN
        if e.op == "or":
            if left is True or right is True:
                return True
            return False if (left is False and right is False) else UNKNOWN
        if left is UNKNOWN or right is UNKNOWN or type(left) is not type(right):
            return UNKNOWN
        if e.op in _COMPARE:
            try:
                return _COMPARE[e.op](left, right)
            except TypeError:
                return UNKNOWN
        if isinstance(left, int | Decimal) and e.op in "+-*":
            return {"+": left + right, "-": left - right, "*": left * right}[e.op]
    return UNKNOWN
