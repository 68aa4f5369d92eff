"""Lark grammar → typed syntax tree (rules.ast), with 1-based line and column everywhere."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import ast as A
from .diagnostics import Diagnostic

KEYWORDS = frozenset(
    """program end currency timezone points point expire after earning contact at most times
    per purpose text basis channels dpv field ask category purposes tier when rule on reads
    award of grant reward cap limit budget valid from until group priority pending member
    and or not in any all count sum for where one true false number date bool
    day week month year days weeks months years""".split()
)
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

_TERMINAL_NAMES = {
    "NAME": "a name",
    "ATTR_NAME": "an attribute name",
    "UPPER": "an upper-case word",
    "DPV_TERM": "a DPV term",
    "DATE": "a date",
    "NUMBER": "a number",
    "STRING": "a string",
    "CMP": "a comparison",
    "ADDOP": "'+' or '-'",
    "MULOP": "'*' or '/'",
    "POINTS": "'points'",
    "PERIOD": "a period (day, week, month, year)",
    "UNIT": "a unit (days, weeks, months, years)",
    "$END": "end of input",
}


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    grammar = grammar.replace("@KEYWORDS@", "|".join(sorted(KEYWORDS, key=len, reverse=True)))
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        start=["program", "condition"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    pattern = _lark().get_terminal(terminal).pattern
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return terminal.lower()


def _syntax_error(err: UnexpectedInput, filename: str, text: str) -> Diagnostic:
    if isinstance(err, UnexpectedToken):
        token = err.token
        found = "end of input" if token.type == "$END" else f"'{token.value}'"
        try:
            expected = set(err.interactive_parser.accepts())
        except Exception:  # pragma: no cover - accepts() replays the parser; fall back
            expected = set(err.expected)
        line, column = err.line, err.column
        if token.type == "$END":
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
    elif isinstance(err, UnexpectedCharacters):
        found = f"'{err.char}'"
        expected = set(err.allowed or ())
        line, column = err.line, err.column
    else:  # UnexpectedEOF
        found = "end of input"
        expected = set(getattr(err, "expected", ()) or ())
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    names = sorted({_describe(t) for t in expected})
    message = f"unexpected {found}, expected one of: {', '.join(names)}"
    return Diagnostic(filename, max(line, 1), max(column, 1), "error", message)


def _duration(amount: Token, unit: str) -> A.Duration:
    unit = unit if unit.endswith("s") else unit + "s"
    return A.Duration(int(Decimal(amount)), unit)


def _number(token: Token) -> int | Decimal:
    return int(token) if "." not in token else Decimal(str(token))


def _unquote(token: Token) -> str:
    return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")


@v_args(meta=True)
class _Build(Transformer):
    """Builds rules.ast nodes; clauses become (kind, pos, value) triples for their block."""

    # Set by parse_module / parse_condition before transforming.
    duplicates: list[tuple[str, A.Pos]]
    bad_dates: list[tuple[str, A.Pos]]

    def __init__(self, filename: str, text: str):
        super().__init__()
        self.filename = filename
        self.source_text = text

    def transform(self, tree: Tree):
        """Bottom-up, like Transformer.transform, without its per-node wrappers (a third of
        the parse time of a large program): each method gets (meta, children)."""
        methods: dict = {}

        def walk(node: Tree):
            children = [walk(c) if type(c) is Tree else c for c in node.children]
            name = node.data
            method: Any = methods.get(name)  # a builder method, or False for a plain Tree
            if method is None:
                method = methods[name] = getattr(getattr(type(self), name, None), "base_func",
                                                 False)
            if not method:
                return Tree(name, children, node.meta)
            return method(self, node.meta, children)

        return walk(tree)

    def _pos(self, meta) -> A.Pos:
        return A.Pos(self.filename, getattr(meta, "line", 1), getattr(meta, "column", 1))

    def _tpos(self, token: Token) -> A.Pos:
        return A.Pos(self.filename, token.line or 1, token.column or 1)

    # ---- expressions
    def number(self, meta, c):
        return A.Literal(self._pos(meta), "number", _number(c[0]))

    def money(self, meta, c):
        return A.Literal(self._pos(meta), "money", Decimal(str(c[0])), str(c[1]))

    def duration(self, meta, c):
        return A.Literal(self._pos(meta), "duration", _duration(c[0], c[1]))

    def unit(self, meta, c):
        return str(c[0])

    def period(self, meta, c):
        return str(c[0])

    def string(self, meta, c):
        return A.Literal(self._pos(meta), "string", _unquote(c[0]))

    def date(self, meta, c):
        pos = self._pos(meta)
        try:
            return A.Literal(pos, "date", date.fromisoformat(str(c[0])))
        except ValueError:
            return A.Literal(pos, "bad_date", str(c[0]))

    def upper(self, meta, c):
        return A.Literal(self._pos(meta), "weekday", str(c[0]))

    def true(self, meta, c):
        return A.Literal(self._pos(meta), "bool", True)

    def false(self, meta, c):
        return A.Literal(self._pos(meta), "bool", False)

    def name(self, meta, c):
        return A.Name(self._pos(meta), str(c[0]))

    def list(self, meta, c):
        return A.ListExpr(self._pos(meta), list(c))

    def attr(self, meta, c):
        return A.Attr(self._pos(meta), c[0], str(c[1]), self._tpos(c[1]))

    def fname(self, meta, c):
        return c[0]

    def call(self, meta, c):
        return A.Call(self._tpos(c[0]), str(c[0]), list(c[1:]))

    def neg(self, meta, c):
        return A.Unary(self._pos(meta), "-", c[0])

    def not_op(self, meta, c):
        return A.Unary(self._pos(meta), "not", c[0])

    def or_op(self, meta, c):
        return A.Binary(self._pos(meta), "or", c[0], c[1])

    def and_op(self, meta, c):
        return A.Binary(self._pos(meta), "and", c[0], c[1])

    def compare(self, meta, c):
        return A.Binary(self._pos(meta), str(c[1]), c[0], c[2])

    def arith(self, meta, c):
        return A.Binary(self._pos(meta), str(c[1]), c[0], c[2])

    def in_op(self, meta, c):
        return A.Binary(self._pos(meta), "in", c[0], c[1])

    def not_in_op(self, meta, c):
        return A.Binary(self._pos(meta), "not in", c[0], c[1])

    def quant(self, meta, c):
        kind, var, iterable, cond = c
        return A.Quant(self._pos(meta), str(kind), str(var), self._tpos(var), iterable, cond)

    def sum_quant(self, meta, c):
        value, var, iterable = c[1], c[2], c[3]
        cond = c[4] if len(c) > 4 else None
        return A.Quant(self._pos(meta), "sum", str(var), self._tpos(var), iterable, cond, value)

    def condition(self, meta, c):
        return c[0]

    # ---- program block
    def currency(self, meta, c):
        return ("currency", self._pos(meta), str(c[0]))

    def timezone(self, meta, c):
        return ("timezone", self._pos(meta), _unquote(c[0]))

    def expiry(self, meta, c):
        return ("expiry", self._pos(meta), _duration(c[0], c[1]))

    def contact(self, meta, c):
        return ("contact", self._pos(meta), (int(Decimal(c[0])), c[1]))

    def program_block(self, meta, c):
        decl = A.ProgramDecl(self._pos(meta))
        for kind, _pos, value in self._clauses(c, decl.clause_pos):
            setattr(decl, kind, value)
        return decl

    def _clauses(self, clauses, clause_pos):
        for kind, pos, value in clauses:
            if kind in clause_pos:
                self.duplicates.append((kind, pos))
                continue
            clause_pos[kind] = pos
            yield kind, pos, value

    # ---- purposes
    def text(self, meta, c):
        return ("text", self._pos(meta), _unquote(c[0]))

    def basis(self, meta, c):
        return ("basis", self._pos(meta), str(c[0]))

    def channels(self, meta, c):
        return ("channels", self._pos(meta), [(str(t), self._tpos(t)) for t in c])

    def dpv(self, meta, c):
        return ("dpv", self._pos(meta), str(c[0]))

    def purpose(self, meta, c):
        decl = A.PurposeDecl(self._tpos(c[0]), str(c[0]), _unquote(c[1]))
        for kind, _pos, value in self._clauses(c[2:], decl.clause_pos):
            setattr(decl, kind, value)
        return decl

    # ---- fields
    def field_type(self, meta, c):
        if len(c) == 1 and c[0].type != "STRING":
            return (str(c[0]), [])
        return ("choice", [_unquote(t) for t in c])

    def ask(self, meta, c):
        return ("ask", self._pos(meta), _unquote(c[0]))

    def category(self, meta, c):
        return ("category", self._pos(meta), str(c[0]))

    def purposes(self, meta, c):
        return ("purposes", self._pos(meta), [(str(t), self._tpos(t)) for t in c])

    def field(self, meta, c):
        kind, options = c[1]
        decl = A.FieldDecl(self._tpos(c[0]), str(c[0]), kind, options, _unquote(c[2]))
        for clause, _pos, value in self._clauses(c[3:], decl.clause_pos):
            setattr(decl, clause, value)
        return decl

    # ---- tiers and rules
    def _source(self, meta) -> str:
        return self.source_text[meta.start_pos : meta.end_pos]

    def tier(self, meta, c):
        title = _unquote(c[1]) if len(c) == 3 else None
        return A.TierDecl(self._tpos(c[0]), str(c[0]), title, c[-1], self._source(meta))

    def on(self, meta, c):
        return ("event", self._tpos(c[0]), str(c[0]))

    def rule_purpose(self, meta, c):
        return ("purpose", self._tpos(c[0]), str(c[0]))

    def reads(self, meta, c):
        return ("reads", self._pos(meta), [(str(t), self._tpos(t)) for t in c])

    def when(self, meta, c):
        return ("when", self._pos(meta), c[0])

    def award(self, meta, c):
        return ("award", self._pos(meta), A.Award(self._pos(meta), c[0]))

    def award_per(self, meta, c):
        amount, _points, per, currency, of = c
        award = A.Award(
            self._pos(meta), amount, Decimal(str(per)), str(currency), self._tpos(per), of
        )
        return ("award", self._pos(meta), award)

    def grant(self, meta, c):
        return ("reward", self._tpos(c[0]), str(c[0]))

    def cap(self, meta, c):
        return ("cap", self._pos(meta), (int(Decimal(c[0])), c[2] if len(c) > 2 else None))

    def limit(self, meta, c):
        return ("limit", self._pos(meta), (int(Decimal(c[0])), c[1] if len(c) > 1 else None))

    def budget(self, meta, c):
        return ("budget", self._pos(meta), int(Decimal(c[0])))

    def valid(self, meta, c):
        return ("valid", self._pos(meta), (c[0], c[1] if len(c) > 1 else None))

    def valid_until(self, meta, c):
        return ("valid", self._pos(meta), (None, c[0]))

    def group(self, meta, c):
        return ("group", self._tpos(c[0]), (str(c[0]), int(Decimal(c[1]))))

    def pending(self, meta, c):
        return ("pending", self._pos(meta), _duration(c[0], c[1]))

    def rule(self, meta, c):
        decl = A.RuleDecl(self._tpos(c[0]), str(c[0]), _unquote(c[1]), self._source(meta))
        for kind, pos, value in self._clauses(c[2:], decl.clause_pos):
            if kind == "valid":
                for part, token in zip(("valid_from", "valid_until"), value, strict=True):
                    if token is not None:
                        setattr(decl, part, _parse_date(token, pos, self))
            elif kind == "group":
                decl.group, decl.priority = value
            else:
                setattr(decl, kind, value)
        return decl

    def program(self, meta, c):
        module = A.Module()
        buckets = {
            A.ProgramDecl: module.programs,
            A.PurposeDecl: module.purposes,
            A.FieldDecl: module.fields,
            A.TierDecl: module.tiers,
            A.RuleDecl: module.rules,
        }
        for decl in c:
            buckets[type(decl)].append(decl)
        return module


def _parse_date(token: Token, pos: A.Pos, builder: _Build) -> date | None:
    try:
        return date.fromisoformat(str(token))
    except ValueError:
        builder.bad_dates.append((str(token), builder._tpos(token)))
        return None


def parse_module(text: str, filename: str) -> tuple[A.Module | None, list[Diagnostic]]:
    """Parse one file; on a syntax error return (None, [the error])."""
    try:
        tree = _lark().parse(text, start="program")
    except UnexpectedInput as err:
        return None, [_syntax_error(err, filename, text)]
    builder = _Build(filename, text)
    builder.duplicates = []
    builder.bad_dates = []
    module = builder.transform(tree)
    module.duplicate_clauses = builder.duplicates
    diags = [
        Diagnostic(p.filename, p.line, p.column, "error", f"invalid date {d}")
        for d, p in builder.bad_dates
    ]
    return module, diags


def parse_condition(text: str, filename: str) -> tuple[A.Expr | None, list[Diagnostic]]:
    try:
        tree = _lark().parse(text, start="condition")
    except UnexpectedInput as err:
        return None, [_syntax_error(err, filename, text)]
    builder = _Build(filename, text)
    builder.duplicates = []
    builder.bad_dates = []
    return builder.transform(tree), []
