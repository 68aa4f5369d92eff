"""Names, types and privacy checks (4 and 6 of RULES.md) of one expression."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeGuard, cast

from . import ast as A
from .diagnostics import Reporter, did_you_mean
from .parser import KEYWORDS, WEEKDAYS
from .schema import (
    COMMON_ATTRS,
    EVENT_ATTRS,
    FIELD_TYPES,
    FUNCTIONS,
    HISTORY_FUNCTIONS,
    ITEM_ATTRS,
    MEMBER_ATTRS,
    describe,
)

ANY = "any"
BUNDLING = "bundling: a rule may depend on consent only through its own purpose"


@dataclass
class Scope:
    """Where an expression is checked: a rule's condition, a tier, or an audience."""

    kind: str  # rule | tier | audience
    owner: str  # "rule 'x'" etc., for messages
    event: str | None = None
    purpose: str | None = None
    reads: frozenset[str] = frozenset()
    used_fields: set[str] = field(default_factory=set)
    uses_history: bool = False


class ExprChecker:
    def __init__(self, report: Reporter, *, currency: str, fields: dict, tiers: list[str],
                 purposes: dict, types: dict[int, str]):
        self.report = report
        self.currency = currency
        self.fields = fields  # name -> FieldDecl
        self.tiers = tiers
        self.purposes = purposes  # name -> PurposeDecl
        self.types = types  # id(expr) -> type, read by the compiler
        # (function, amount, unit) of every history call checked, e.g. ("spent", 90, "days")
        self.history_figures: set[tuple[str, int, str]] = set()

    def check(self, expr: A.Expr, scope: Scope, env: dict[str, str] | None = None) -> str:
        ty = self._check(expr, scope, env or {})
        self.types[id(expr)] = ty
        return ty

    def _check(self, e: A.Expr, sc: Scope, env: dict[str, str]) -> str:
        method = getattr(self, "_" + type(e).__name__.lower())
        return method(e, sc, env)

    # ---- leaves
    def _literal(self, e: A.Literal, sc, env) -> str:
        if e.kind == "money":
            if len(e.currency) != 3 or not e.currency.isupper():
                self.report.error(e.pos, f"'{e.currency}' is not a currency code")
                return ANY
            if e.currency != self.currency:
                self.report.error(
                    e.pos, f"currency {e.currency} is not the program's currency {self.currency}"
                )
            return "money"
        if e.kind == "weekday":
            if e.value not in WEEKDAYS:
                self.report.error(
                    e.pos, f"unknown name '{e.value}'" + did_you_mean(str(e.value), WEEKDAYS)
                )
                return ANY
            return "weekday"
        if e.kind == "bad_date":
            self.report.error(e.pos, f"invalid date {e.value}")
            return ANY
        return {"number": "number", "string": "text", "date": "date", "duration": "duration",
                "bool": "bool"}[e.kind]

    def _name(self, e: A.Name, sc: Scope, env) -> str:
        if e.name in env:
            return env[e.name]
        if e.name in self.tiers:
            return "tier"
        if e.name == "member":
            self.report.error(e.pos, "'member' alone is not a value; use member.ATTRIBUTE")
        elif e.name in EVENT_ATTRS:
            self.report.error(e.pos, f"'{e.name}' alone is not a value; use {e.name}.ATTRIBUTE")
        else:
            candidates = list(env) + self.tiers
            self.report.error(e.pos, f"unknown name '{e.name}'" + did_you_mean(e.name, candidates))
        return ANY

    def _attr(self, e: A.Attr, sc: Scope, env) -> str:
        obj = e.obj
        if isinstance(obj, A.Name) and obj.name not in env:
            if obj.name == "member":
                return self._member_attr(e, sc)
            if obj.name in EVENT_ATTRS:
                return self._event_attr(e, obj.name, sc)
        ty = self.check(obj, sc, env)
        if ty == "item":
            if e.attr in ITEM_ATTRS:
                return ITEM_ATTRS[e.attr]
            self.report.error(e.attr_pos, f"unknown attribute '{e.attr}' of an item"
                              + did_you_mean(e.attr, ITEM_ATTRS))
        elif ty != ANY:
            self.report.error(e.attr_pos, f"{describe(ty)} has no attribute '{e.attr}'")
        return ANY

    def _member_attr(self, e: A.Attr, sc: Scope) -> str:
        name = e.attr
        if name == "consents":
            self.report.error(e.pos, f"{sc.owner} uses member.consents; {BUNDLING}")
            return ANY
        if name in MEMBER_ATTRS:
            if sc.kind == "tier" and name == "tier":
                self.report.error(e.pos, "a tier condition cannot use member.tier")
            return MEMBER_ATTRS[name]
        decl = self.fields.get(name)
        if decl is None:
            self.report.error(e.attr_pos, f"unknown field '{name}'"
                              + did_you_mean(name, list(self.fields) + list(MEMBER_ATTRS)))
            return ANY
        if sc.kind == "tier":
            self.report.error(e.pos, f"tier conditions may use only contract data, "
                              f"not the profile field member.{name}")
        elif sc.kind == "rule" and name not in sc.reads:
            self.report.error(e.pos, f"{sc.owner} uses member.{name} but does not list "
                              f"'{name}' under reads")
        elif sc.kind == "audience" and sc.purpose not in {p for p, _ in decl.purposes}:
            self.report.error(e.pos, f"field '{name}' may not be used for purpose "
                              f"'{sc.purpose}'")
        sc.used_fields.add(name)
        return FIELD_TYPES[decl.type]

    def _event_attr(self, e: A.Attr, event: str, sc: Scope) -> str:
        if sc.kind != "rule":
            self.report.error(e.pos, f"event data ({event}.{e.attr}) is not available in "
                              f"{sc.owner}")
            return ANY
        if sc.event is not None and event != sc.event:
            self.report.error(e.pos, f"{event}.{e.attr} is not available in a rule "
                              f"on {sc.event}")
            return ANY
        attrs = {**EVENT_ATTRS[event], **COMMON_ATTRS}
        if e.attr not in attrs:
            self.report.error(e.attr_pos, f"unknown attribute '{e.attr}' of {event}"
                              + did_you_mean(e.attr, attrs))
            return ANY
        if event == "consent_given" and e.attr == "purpose":
            self.report.error(e.pos, f"{sc.owner} uses consent_given.purpose other than "
                              f"to compare it with its own purpose; {BUNDLING}")
            return ANY
        return attrs[e.attr]

    def _call(self, e: A.Call, sc: Scope, env) -> str:
        if e.func not in FUNCTIONS:
            self.report.error(e.pos, f"unknown function '{e.func}'"
                              + did_you_mean(e.func, FUNCTIONS))
            for arg in e.args:
                self.check(arg, sc, env)
            return ANY
        accepted, result = FUNCTIONS[e.func]
        if len(e.args) != 1:
            self.report.error(e.pos, f"{e.func}() takes one argument, not {len(e.args)}")
            return result
        arg = e.args[0]
        ty = self.check(arg, sc, env)
        if e.func in HISTORY_FUNCTIONS:
            sc.uses_history = True
            if not (isinstance(arg, A.Literal) and arg.kind == "duration"):
                self.report.error(arg.pos, f"{e.func}() takes a duration such as 30 days")
            else:
                self.history_figures.add((e.func, int(arg.value.amount), str(arg.value.unit)))
        elif ty != ANY and ty not in accepted:
            self.report.error(arg.pos, f"{e.func}() takes {' or '.join(map(describe, accepted))}"
                              f", not {describe(ty)}")
        return result

    def _unary(self, e: A.Unary, sc, env) -> str:
        ty = self.check(e.operand, sc, env)
        if e.op == "not":
            self._want_bool(e.operand, ty, "'not'")
            return "bool"
        if ty not in ("number", "money", ANY):
            self.report.error(e.pos, f"arithmetic on {describe(ty)}")
            return ANY
        return ty

    def _listexpr(self, e: A.ListExpr, sc, env) -> str:
        types = {self.check(item, sc, env) for item in e.items} - {ANY}
        if len(types) > 1:
            self.report.error(e.pos, "a list mixes " + " and ".join(sorted(map(describe, types))))
            return "list:any"
        return "list:" + (types.pop() if types else ANY)

    def _quant(self, e: A.Quant, sc, env) -> str:
        lty = self.check(e.iterable, sc, env)
        if e.var in KEYWORDS or e.var == "member" or e.var in EVENT_ATTRS:
            self.report.error(e.var_pos, f"'{e.var}' is a reserved word and cannot name a "
                              f"loop variable")
        if lty.startswith("list:"):
            inner = {**env, e.var: lty[5:]}
        else:
            if lty != ANY:
                self.report.error(e.iterable.pos, f"{e.kind} needs a list, not {describe(lty)}")
            inner = {**env, e.var: ANY}
        if e.cond is not None:
            self._want_bool(e.cond, self.check(e.cond, sc, inner), "'where'")
        if e.kind == "sum":
            vty = self.check(cast(A.Expr, e.value), sc, inner)  # a sum has its summed expression
            if vty not in ("number", "money", ANY):
                self.report.error(cast(A.Expr, e.value).pos,
                                  f"sum adds numbers or money, not {describe(vty)}")
                return ANY
            return vty
        return "number" if e.kind == "count" else "bool"

    def _want_bool(self, e: A.Expr, ty: str, where: str) -> None:
        if ty not in ("bool", ANY):
            self.report.error(e.pos, f"{where} needs a condition (true or false), "
                              f"not {describe(ty)}")

    # ---- binary operators
    def _binary(self, e: A.Binary, sc, env) -> str:
        if e.op in ("==", "in") and _is_consent_purpose(e.left):
            return self._consent_purpose(e, sc)
        if e.op == "==" and _is_attr(e.left, "profile_shared", "field"):
            self._known_field_names(e.right)
        left = self.check(e.left, sc, env)
        right = self.check(e.right, sc, env)
        if e.op in ("and", "or"):
            self._want_bool(e.left, left, f"'{e.op}'")
            self._want_bool(e.right, right, f"'{e.op}'")
            return "bool"
        if e.op in ("in", "not in"):
            if right == ANY:
                return "bool"
            if not right.startswith("list:"):
                self.report.error(e.right.pos, f"'{e.op}' needs a list on its right, "
                                  f"not {describe(right)}")
                return "bool"
            self._comparable(e, left, right[5:], "==")
            self._choice_options(e.left, e.right)
            return "bool"
        if e.op in ("==", "!=", "<", "<=", ">", ">="):
            self._comparable(e, left, right, e.op)
            self._choice_options(e.left, e.right)
            return "bool"
        return self._arith(e, left, right)

    def _comparable(self, e: A.Binary, left: str, right: str, op: str) -> None:
        if ANY in (left, right):
            return
        pair = {left, right}
        if left == right:
            if left == "weekday" and op not in ("==", "!="):
                self.report.error(e.pos, "a weekday compares only with ==, != and in")
            elif left in ("text", "bool") and op not in ("==", "!="):
                self.report.error(e.pos, f"{describe(left)} compares only with == and !=")
            elif left in ("duration", "item") or left.startswith("list:"):
                self.report.error(e.pos, f"cannot compare {describe(left)} with '{op}'")
            return
        if pair == {"money", "number"}:
            self.report.error(e.pos, "cannot compare money with a plain number; write the "
                              f"amount with its currency, e.g. 50 {self.currency}")
        elif pair == {"date", "text"}:
            self.report.error(e.pos, "cannot compare a date with a string; write the date "
                              "as YYYY-MM-DD without quotes")
        elif pair == {"tier", "text"}:
            self.report.error(e.pos, "a tier compares with tier names, not strings "
                              "(write gold, not \"gold\")")
        else:
            self.report.error(e.pos, f"cannot compare {describe(left)} with {describe(right)}")

    def _arith(self, e: A.Binary, left: str, right: str) -> str:
        if ANY in (left, right):
            return ANY
        for ty in (left, right):
            if ty not in ("number", "money", "date", "time", "duration"):
                self.report.error(e.pos, f"arithmetic on {describe(ty)}")
                return ANY
        op = e.op
        table = {
            ("number", "number"): "number",
            ("money", "money"): "money" if op in "+-" else ("number" if op == "/" else None),
            ("money", "number"): "money" if op in "*/" else None,
            ("number", "money"): "money" if op == "*" else None,
            ("date", "duration"): "date" if op in "+-" else None,
            ("time", "duration"): "time" if op in "+-" else None,
        }
        result = table.get((left, right))
        if result is None:
            self.report.error(e.pos, f"cannot apply '{op}' to {describe(left)} and "
                              f"{describe(right)}")
            return ANY
        return result

    # ---- special comparisons
    def _consent_purpose(self, e: A.Binary, sc: Scope) -> str:
        self.types[id(e.left)] = "text"
        values = e.right.items if isinstance(e.right, A.ListExpr) else [e.right]
        if sc.kind != "rule" or sc.event != "consent_given":
            self.report.error(e.pos, "consent_given.purpose is only available in a rule "
                              "on consent_given")
            return "bool"
        for value in values:
            if not (isinstance(value, A.Literal) and value.kind == "string"):
                self.report.error(value.pos, f"consent_given.purpose must be compared with "
                                  f"the rule's own purpose \"{sc.purpose}\"; {BUNDLING}")
                continue
            self.types[id(value)] = "text"
            if value.value not in self.purposes:
                self.report.error(value.pos, f"unknown purpose '{value.value}'"
                                  + did_you_mean(str(value.value), self.purposes))
            elif value.value != sc.purpose:
                self.report.error(value.pos, f"{sc.owner} of purpose '{sc.purpose}' depends "
                                  f"on consent to '{value.value}'; {BUNDLING}")
        if isinstance(e.right, A.ListExpr):
            self.types[id(e.right)] = "list:text"
        return "bool"

    def _known_field_names(self, right: A.Expr) -> None:
        if isinstance(right, A.Literal) and right.kind == "string":
            if right.value not in self.fields:
                self.report.error(right.pos, f"unknown field '{right.value}'"
                                  + did_you_mean(str(right.value), self.fields))

    def _choice_options(self, left: A.Expr, right: A.Expr) -> None:
        if not (_is_attr(left, "member", None) and left.attr in self.fields):
            return
        decl = self.fields[left.attr]
        if decl.type != "choice":
            return
        values = right.items if isinstance(right, A.ListExpr) else [right]
        for value in values:
            if isinstance(value, A.Literal) and value.kind == "string" \
                    and value.value not in decl.options:
                self.report.error(value.pos, f"'{value.value}' is not an option of field "
                                  f"'{decl.name}'" + did_you_mean(str(value.value), decl.options))


def _is_attr(e: A.Expr, obj: str, attr: str | None) -> TypeGuard[A.Attr]:
    return (isinstance(e, A.Attr) and isinstance(e.obj, A.Name) and e.obj.name == obj
            and (attr is None or e.attr == attr))


def _is_consent_purpose(e: A.Expr) -> bool:
    return _is_attr(e, "consent_given", "purpose")
