"""Typed syntax tree of a rules program; every node knows where it was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class Pos:
    filename: str
    line: int
    column: int


# ---- expressions -------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Expr:
    pos: Pos


@dataclass(slots=True, eq=False)
class Literal(Expr):
    """kind: number, string, money, date, duration, weekday, bool."""

    kind: str
    value: Any  # by kind: int|Decimal, str, Decimal, date, Duration, weekday code, bool
    currency: str = ""


@dataclass(slots=True, eq=False)
class Name(Expr):
    name: str


@dataclass(slots=True, eq=False)
class Attr(Expr):
    obj: Expr
    attr: str
    attr_pos: Pos


@dataclass(slots=True, eq=False)
class Call(Expr):
    func: str
    args: list[Expr]


@dataclass(slots=True, eq=False)
class Unary(Expr):
    op: str  # "-" or "not"
    operand: Expr


@dataclass(slots=True, eq=False)
class Binary(Expr):
    op: str  # or and == != < <= > >= in "not in" + - * /
    left: Expr
    right: Expr


@dataclass(slots=True, eq=False)
class ListExpr(Expr):
    items: list[Expr]


@dataclass(slots=True, eq=False)
class Quant(Expr):
    kind: str  # any, all, count, sum
    var: str
    var_pos: Pos
    iterable: Expr
    cond: Expr | None
    value: Expr | None = None  # the summed expression of `sum`


# ---- declarations ------------------------------------------------------------------------


@dataclass(slots=True)
class Duration:
    amount: int
    unit: str  # days, weeks, months, years


@dataclass(slots=True)
class ProgramDecl:
    pos: Pos
    currency: str | None = None
    timezone: str | None = None
    expiry: Duration | None = None
    contact: tuple[int, str] | None = None
    clause_pos: dict[str, Pos] = field(default_factory=dict)


@dataclass(slots=True)
class PurposeDecl:
    pos: Pos
    name: str
    title: str
    text: str | None = None
    basis: str | None = None
    channels: list[tuple[str, Pos]] = field(default_factory=list)
    dpv: str | None = None
    clause_pos: dict[str, Pos] = field(default_factory=dict)


@dataclass(slots=True)
class FieldDecl:
    pos: Pos
    name: str
    type: str  # text number date bool choice
    options: list[str]
    label: str
    ask: str | None = None
    category: str | None = None
    purposes: list[tuple[str, Pos]] = field(default_factory=list)
    clause_pos: dict[str, Pos] = field(default_factory=dict)


@dataclass(slots=True)
class TierDecl:
    pos: Pos
    name: str
    title: str | None
    condition: Expr
    source: str


@dataclass(slots=True)
class Award:
    pos: Pos
    amount: Expr  # fixed number or whole-number expression
    per: Decimal | None = None  # M of `per M CUR of X`
    per_currency: str = ""
    per_pos: Pos | None = None
    of: Expr | None = None


@dataclass(slots=True)
class RuleDecl:
    pos: Pos
    name: str
    title: str
    source: str = ""
    event: str | None = None
    purpose: str | None = None
    reads: list[tuple[str, Pos]] = field(default_factory=list)
    when: Expr | None = None
    award: Award | None = None
    reward: str | None = None
    cap: tuple[int, str | None] | None = None
    limit: tuple[int, str | None] | None = None
    budget: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    group: str | None = None
    priority: int | None = None
    pending: Duration | None = None
    clause_pos: dict[str, Pos] = field(default_factory=dict)
    duplicate_clauses: list[tuple[str, Pos]] = field(default_factory=list)


@dataclass(slots=True)
class Module:
    """Everything declared by the files of one program, in source order."""

    programs: list[ProgramDecl] = field(default_factory=list)
    purposes: list[PurposeDecl] = field(default_factory=list)
    fields: list[FieldDecl] = field(default_factory=list)
    tiers: list[TierDecl] = field(default_factory=list)
    rules: list[RuleDecl] = field(default_factory=list)
    duplicate_clauses: list[tuple[str, Pos]] = field(default_factory=list)
