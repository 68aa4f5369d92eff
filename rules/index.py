"""Index the rules of one event type by their selective guards, so that an event evaluates
only the rules that can still fire.

A rule's *guards* are top-level conjuncts of its `when` (and its `valid` window) that depend
on one cheap value of the event:

- the date (`valid from/until`, `weekday(purchase.date) == SAT`, `month(purchase.date) in
  [...]`: any conjunct that reads nothing but the event's date) → one mask per date, built
  the first time a date is seen and cached;
- the member's tier (`member.tier == gold`, `>= silver`, ...) → one mask per tier;
- the hour (`hour(purchase.at) >= 14`) → one mask per hour;
- a text attribute of the event (`purchase.store == "x"`, `in [...]`) → a dict from value
  to mask;
- a text attribute of the items (`any item in purchase.items where item.category == "x"` or
  `in [...]`, and `count`/`sum` compared so that an empty selection fails) → a dict from
  value to mask, OR-ed over the items of the basket.

Masks are ints with one bit per rule (its position among the event type's rules). The
candidates of an event are the AND over dimensions of "guard holds or not guarded there";
they are a superset of the rules whose conjuncts all hold, so evaluating only them (in
declaration order) gives the same effects. Rules skipped this way never ran, so their
why-not is built, when read, by the reference evaluator (explain.py) like any other.
A predicate that raises keeps the rule a candidate (the rule then fails on its own), and an
event whose index values cannot be looked up (an unhashable store, items that are not
objects) falls back to every rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeGuard, cast

from . import ast as A
from .codegen import ExprGen, conjuncts

INDEX_MIN_RULES = 16  # below this, testing every rule is as cheap as looking them up
DAY_CACHE_SIZE = 4096

_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


@dataclass
class RuleIndex:
    """Guards of the rules of one event type, by dimension; keys are rule bits."""

    size: int
    # (bit, code of d / m_tier / h, the conjunct or None for the validity window)
    date_preds: list[tuple[int, str, A.Expr | None]] = field(default_factory=list)
    tier_preds: list[tuple[int, str, A.Expr | None]] = field(default_factory=list)
    hour_preds: list[tuple[int, str, A.Expr | None]] = field(default_factory=list)
    attr_keys: dict[str, dict[int, frozenset]] = field(default_factory=dict)
    item_keys: dict[str, dict[int, frozenset]] = field(default_factory=dict)

    @property
    def all(self) -> int:
        return (1 << self.size) - 1

    def guarded(self) -> int:
        return sum(1 for bits in self._per_rule() if bits)

    def _per_rule(self):
        seen = [False] * self.size
        for preds in (self.date_preds, self.tier_preds, self.hour_preds):
            for bit, _, _ in preds:
                seen[bit.bit_length() - 1] = True
        for dims in (self.attr_keys, self.item_keys):
            for keys in dims.values():
                for bit in keys:
                    seen[bit.bit_length() - 1] = True
        return seen


def _is_event_attr(e: A.Expr, attrs: tuple[str, ...] | None = None) -> TypeGuard[A.Attr]:
    return (isinstance(e, A.Attr) and isinstance(e.obj, A.Name) and e.obj.name != "member"
            and (attrs is None or e.attr in attrs))


def _string_keys(op: str, other: A.Expr) -> frozenset | None:
    """The values a text compared by `op` with `other` may take for the test to hold."""
    if op == "==" and isinstance(other, A.Literal) and other.kind == "string":
        return frozenset([other.value])
    if op == "in" and isinstance(other, A.ListExpr) and all(
            isinstance(i, A.Literal) and i.kind == "string" for i in other.items):
        return frozenset(cast(A.Literal, i).value for i in other.items)
    return None


def _key_test(cond: A.Expr | None, var: str, types: dict) -> tuple[str, frozenset] | None:
    """`item.A == "x"` / `item.A in [...]` (A a text attribute), possibly one conjunct of
    an `and`: the attribute and the values an item needs to match."""
    if cond is None:
        return None
    if isinstance(cond, A.Binary) and cond.op == "and":
        return _key_test(cond.left, var, types) or _key_test(cond.right, var, types)
    if not isinstance(cond, A.Binary) or cond.op not in ("==", "in"):
        return None
    attr, other = cond.left, cond.right
    if cond.op == "==" and isinstance(other, A.Attr):
        attr, other = other, attr
    if not (isinstance(attr, A.Attr) and isinstance(attr.obj, A.Name) and attr.obj.name == var
            and types.get(id(attr)) == "text"):
        return None
    keys = _string_keys(cond.op, other)
    return (attr.attr, keys) if keys is not None else None


def _items_guard(conj: A.Expr, types: dict) -> tuple[str, frozenset] | None:
    """A conjunct that needs an item of the event's `items` with a text attribute in a set."""
    quant, holds_when_empty = conj, False
    if isinstance(conj, A.Binary) and conj.op in _CMP:
        left, op, right = conj.left, conj.op, conj.right
        if isinstance(left, A.Literal):
            left, op, right = right, _FLIP[op], left
        if not (isinstance(left, A.Quant) and left.kind in ("count", "sum")
                and isinstance(right, A.Literal) and right.kind in ("number", "money")):
            return None
        quant = left
        try:  # an empty selection counts 0 / sums to zero
            holds_when_empty = bool(_CMP[op](0, right.value))
        except (TypeError, ArithmeticError):
            return None
    elif not (isinstance(conj, A.Quant) and conj.kind == "any"):
        return None
    if holds_when_empty or not _is_event_attr(cast(A.Quant, quant).iterable, ("items",)):
        return None
    return _key_test(cast(A.Quant, quant).cond, cast(A.Quant, quant).var, types)


def _attr_guard(conj: A.Expr, types: dict) -> tuple[str, frozenset] | None:
    """`purchase.store == "x"` / `in [...]` on a text attribute of the event."""
    if not isinstance(conj, A.Binary) or conj.op not in ("==", "in"):
        return None
    attr, other = conj.left, conj.right
    if conj.op == "==" and _is_event_attr(other):
        attr, other = other, attr
    if not _is_event_attr(attr) or attr.attr in ("at", "date", "total", "items") \
            or types.get(id(attr)) != "text":
        return None
    keys = _string_keys(conj.op, other)
    return (attr.attr, keys) if keys is not None else None


def _hour_guard(conj: A.Expr, gen: ExprGen) -> str | None:
    """`hour(purchase.at) OP number`: the test as code of `h`."""
    if not isinstance(conj, A.Binary) or conj.op not in _CMP:
        return None
    left, op, right = conj.left, conj.op, conj.right
    if isinstance(left, A.Literal):
        left, op, right = right, _FLIP[op], left
    if not (isinstance(left, A.Call) and left.func == "hour" and len(left.args) == 1
            and _is_event_attr(left.args[0], ("at",)) and isinstance(right, A.Literal)
            and right.kind == "number"):
        return None
    return f"(h {op} {gen.gen(right)})"


def build_index(infos: list, types: dict, tiers: dict, const: Callable) -> RuleIndex:
    """The guards of each rule (`infos`: the event type's rules, in declaration order)."""
    index = RuleIndex(len(infos))
    for position, info in enumerate(infos):
        bit = 1 << position
        decl: A.RuleDecl = info.decl
        if decl.valid_from is not None:
            index.date_preds.append((bit, f"{const(decl.valid_from)} <= d", None))
        if decl.valid_until is not None:
            index.date_preds.append((bit, f"d <= {const(decl.valid_until)}", None))
        items: dict[str, frozenset] = {}
        for conj in conjuncts(decl.when):
            guard = _items_guard(conj, types)
            if guard is not None:
                attr, keys = guard
                if attr not in items or len(keys) < len(items[attr]):
                    items[attr] = keys
                continue
            guard = _attr_guard(conj, types)
            if guard is not None:
                attr, keys = guard
                per_rule = index.attr_keys.setdefault(attr, {})
                per_rule[bit] = per_rule[bit] & keys if bit in per_rule else keys
                continue
            uses: set[str] = set()
            gen = ExprGen(types, tiers, const, uses)
            hour = _hour_guard(conj, gen)
            if hour is not None:
                index.hour_preds.append((bit, hour, conj))
                continue
            code = gen.gen(conj)
            if gen.pending_groups or gen.groups:
                continue
            if uses <= {"d"}:
                index.date_preds.append((bit, code, conj))
            elif uses == {"m_tier"}:
                index.tier_preds.append((bit, code, conj))
        for attr, keys in items.items():
            index.item_keys.setdefault(attr, {})[bit] = keys
    return index


def _failing(preds: list[tuple[int, Callable]], value) -> int:
    """The bits of the predicates that are false for `value` (one that raises holds)."""
    failing = 0
    for bit, pred in preds:
        try:
            if not pred(value):
                failing |= bit
        except Exception:  # noqa: BLE001 - the rule then evaluates (and fails) on its own
            pass
    return failing


def never_raises(pred: Callable, values) -> bool:
    """Whether a predicate gives a value (true or false) for every one of `values`."""
    try:
        for value in values:
            pred(value)
    except Exception:  # noqa: BLE001
        return False
    return True


def value_masks(preds: list[tuple[int, Callable]], values, everything: int) -> tuple:
    """For each value, the rules whose predicates on it all hold (or that have none)."""
    return tuple(everything & ~_failing(preds, value) for value in values)


def day_masks(preds: list[tuple[int, Callable]], everything: int):
    """(cache, function): the mask of a date, computed once per date and kept."""
    cache: dict = {}

    def day_mask(day) -> int:
        mask = everything & ~_failing(preds, day)
        if len(cache) >= DAY_CACHE_SIZE:
            cache.clear()
        cache[day] = mask
        return mask

    return cache, day_mask


def key_masks(per_rule: dict[int, frozenset], everything: int) -> tuple[dict, int]:
    """(value -> mask of the rules it lets through, mask for any other value)."""
    unguarded = everything
    for bit in per_rule:
        unguarded &= ~bit
    masks: dict = {}
    for bit, keys in per_rule.items():
        for key in keys:
            masks[key] = masks.get(key, unguarded) | bit
    return masks, unguarded


def item_masks(per_rule: dict[int, frozenset], everything: int) -> tuple[dict, int]:
    """(value -> mask of the rules an item with it lets through, rules with no such guard)."""
    unguarded = everything
    masks: dict = {}
    for bit, keys in per_rule.items():
        unguarded &= ~bit
        for key in keys:
            masks[key] = masks.get(key, 0) | bit
    return masks, unguarded
