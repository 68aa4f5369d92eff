"""Expressions of the checked tree → Python expression source (never user text verbatim)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TypeGuard, cast

from . import ast as A
from . import runtime as rt
from .runtime import WEEKDAY_CODES
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
                 const: Callable[[object], str], uses: set[str], *, units: bool = False):
        self.types = types
        # money as hundredths (runtime.to_units: ints, or Decimals when not whole), or Decimal
        self.units = units
        self.zero = "0" if units else "_ZERO"
        self.tiers = tiers
        self.const = const
        self.uses = uses  # names of locals the generated code needs (m_tier, e_total, ...)
        # One pass over a list groups its entries by a text attribute (category, sku):
        # (list code, attribute) -> its Group (counts per key, and the sums rules ask for)
        self.groups: dict[tuple[str, str], Group] = {}
        self.pending_groups: list[tuple[str, str]] = []
        self.helpers_made: set[str] = set()
        # module-level source for sums computed on demand (None: sums share the item loop)
        self.sum_helpers: list[str] | None = None
        self.sum_functions: dict[str, str] = {}
        self.sum_prefix = "_sv"
        self.in_iterable = 0

    # ---- grouped quantifiers
    def flush_groups(self, block) -> None:
        """Before a condition that uses grouped quantifiers: a marker, filled in later."""
        for key in dict.fromkeys(self.pending_groups):
            block.emit(f"\0{key[0]}\0{key[1]}")
        self.pending_groups.clear()

    def expand_groups(self, lines: list[str], helpers: list[str] | None = None,
                      prefix: str = "_grp") -> list[str]:
        """Replace each marker by the one loop that fills every dict of its group. A loop
        needed in more than six places becomes a helper function (appended to `helpers`),
        so that a large program's source stays small."""
        uses = Counter(line.lstrip(" ") for line in lines if line.lstrip(" ").startswith("\0"))
        out = []
        for line in lines:
            stripped = line.lstrip(" ")
            if not stripped.startswith("\0"):
                out.append(line)
                continue
            pad = line[: len(line) - len(stripped)]
            _, iterable, attr = stripped.split("\0")
            group = self.groups[(iterable, attr)]
            count, temps = group.count, group.names()
            loop = [f"for it in {iterable}:",
                    f"    k = it.get({attr!r})",
                    f"    if k in t_{count}: t_{count}[k] += 1",
                    f"    else: t_{count}[k] = 1"]
            # An item that cannot be summed (a missing price) spoils only the sums it belongs
            # to (the rules that read them fail), not the loop that other rules share.
            for name, value, start in group.keyed:  # a sum per key of any key
                loop.append(f"    try: t_{name}[k] = t_{name}.get(k, {start}) + {value}")
                loop.append(f"    except _ERRORS: t_{name}[k] = _UNSUMMABLE")
            for (value, keys), (name, _) in group.sums.items():  # one sum over given keys
                test = f"k == {next(iter(keys))!r}" if len(keys) == 1 else \
                    f"k in {self.const(keys)}"
                loop.append(f"    if {test}:")
                loop.append(f"        try: t_{name} = t_{name} + {value}")
                loop.append(f"        except _ERRORS: t_{name} = _UNSUMMABLE")
            init = "; ".join(f"t_{t} = {group.start(t)}" for t in temps)
            out.append(f"{pad}if {count} is None:")
            if helpers is not None and uses[stripped] > 6:
                function = f"{prefix}_{count}"
                if function not in self.helpers_made:
                    self.helpers_made.add(function)
                    helpers.append(f"def {function}(items):")
                    helpers.append(f"    {init}")
                    helpers.extend("    " + part.replace(f"in {iterable}:", "in items:", 1)
                                   for part in loop)
                    helpers.append("    return " + ", ".join(f"t_{t}" for t in temps))
                targets = ", ".join(temps)
                out.append(f"{pad}    {targets} = {function}({iterable})")
                continue
            out.append(f"{pad}    {init}")
            out.extend(f"{pad}    {part}" for part in loop)
            out.append(f"{pad}    " + "; ".join(f"{t} = t_{t}" for t in temps))
        return out

    def _grouped(self, e: A.Quant, env) -> str | None:
        """A quantifier selecting by `item.A == X` / `item.A in [...]` on a text attribute."""
        cond = e.cond
        if cond is None or not isinstance(cond, A.Binary) or cond.op not in ("==", "in"):
            return None
        attr, other = cond.left, cond.right
        if cond.op == "==" and _is_var_attr(other, e.var):
            attr, other = other, attr
        if not _is_var_attr(attr, e.var) or self.types.get(id(attr)) != "text":
            return None
        if _mentions(other, e.var):
            return None
        keys = _constant_strings(other)  # None: one key, from an expression
        if cond.op == "in" and keys is None:
            return None
        value_code = start = None
        if e.kind == "sum":
            if _mentions_outside(cast(A.Expr, e.value), e.var):  # a sum has its summed expression
                return None
            value_code = self.gen(cast(A.Expr, e.value), {**env, e.var: "it"})
            start = self.zero if self.types.get(id(e)) == "money" else "0"
            if self.sum_helpers is not None and keys is not None:
                # Summed only when a rule asks, over its own keys: parsing money for every
                # item of every wanted key is the costly part of a large program's loop.
                function = self.sum_functions.get(value_code)
                if function is None:
                    function = f"{self.sum_prefix}{len(self.sum_functions)}"
                    self.sum_functions[value_code] = function
                    self.sum_helpers.extend([f"def {function}(it):",
                                             f"    return {value_code}"])
                return (f"_ksum({self.gen(e.iterable, env)}, {attr.attr!r}, "
                        f"{self.const(keys)}, {function}, {start})")
        iterable = self.gen(e.iterable, env)
        key = (iterable, attr.attr)
        if key not in self.groups:
            self.groups[key] = Group(f"g{len(self.groups)}")
        group = self.groups[key]
        count = group.count
        self.pending_groups.append(key)
        if value_code is not None:
            start = cast(str, start)
            if keys is not None:  # over constant keys: one running total
                return group.sum_over(value_code, keys, start)
            wanted = self.gen(other, env)
            return f"{group.keyed_sum(value_code, start)}.get({wanted}, {start})"
        if keys is not None:  # count / any / all of constant keys
            values = self.const(keys)
            if e.kind == "any":
                if len(keys) == 1:
                    return f"({next(iter(keys))!r} in {count})"
                return f"(not {count}.keys().isdisjoint({values}))"
            if e.kind == "all":
                return f"({count}.keys() <= {values})"
            return "(" + " + ".join(f"{count}.get({k!r}, 0)" for k in sorted(keys)) + ")"
        wanted = self.gen(other, env)
        return {"any": f"({wanted} in {count})", "all": f"({count}.keys() <= {{{wanted}}})",
                "count": f"{count}.get({wanted}, 0)"}[e.kind]

    def gen(self, e: A.Expr, env: dict[str, str] | None = None) -> str:
        return getattr(self, "_" + type(e).__name__.lower())(e, env or {})

    def _literal(self, e: A.Literal, env) -> str:
        if e.kind in ("string", "weekday"):
            return repr(str(e.value))
        if e.kind == "bool":
            return repr(bool(e.value))
        if e.kind == "number" and isinstance(e.value, int):
            return repr(e.value)
        if e.kind == "money" and self.units:
            value = rt.to_units(e.value)
            return repr(value) if type(value) is int else self.const(value)
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
        money, cache, text = (("_units", "_UNITS", "_units_text") if self.units
                              else ("_money", "_MONEY", "_money_text"))
        if self.in_iterable and e.attr in ("price", "quantity"):  # no `:=` there
            return (f"{money}({item}.get('price'))" if e.attr == "price"
                    else f"_number({item}.get('quantity', 1))")
        # money() and number(), inline for the usual string price and int quantity
        if e.attr == "price" and self.units:  # units(): any hashable price may be looked up
            return f"(_UNITS.get(_p := {item}.get('price')) or _units(_p))"
        if e.attr == "price":
            return (f"(({cache}.get(_p) or {text}(_p)) if type(_p := {item}.get('price')) "
                    f"is str else {money}(_p))")
        if e.attr == "quantity":
            return f"(_q if type(_q := {item}.get('quantity', 1)) is int else _number(_q))"
        return f"{item}.get({e.attr!r})"

    def _call(self, e: A.Call, env) -> str:
        if e.func in HISTORY_FUNCTIONS:
            duration = cast(A.Literal, e.args[0]).value
            # with a history, `at` and `mid` are set before the rules run (see compiler)
            self.uses.update({"fig", "mid"})
            code = (f"_figure(fig, history, mid, at, {e.func!r}, {duration.amount!r}, "
                    f"{duration.unit!r})")
            return f"_to_units({code})" if self.units and e.func == "spent" else code
        if e.func in ("year", "month", "day", "hour", "weekday") and \
                self._event_time(e.args[0], env):
            # the event's local hour and date are locals: no datetime is needed
            if e.func == "hour":
                self.uses.add("hr")
                return "hr"
            self.uses.add("d")
            arg = "d"
        else:
            arg = self.gen(e.args[0], env)
        if e.func in ("year", "month", "day", "hour"):
            return f"{arg}.{e.func}"
        if e.func == "weekday":
            return f"_WEEKDAYS[{arg}.weekday()]"
        self.uses.add("d")
        return f"_{e.func}({arg}, d)"

    @staticmethod
    def _event_time(e: A.Expr, env) -> bool:
        """Whether `e` is the event's time (`purchase.at`)."""
        return (isinstance(e, A.Attr) and e.attr == "at" and isinstance(e.obj, A.Name)
                and e.obj.name not in env and e.obj.name != "member")

    def _unary(self, e: A.Unary, env) -> str:
        operand = self.gen(e.operand, env)
        return f"(not {operand})" if e.op == "not" else f"(-{operand})"

    def _listexpr(self, e: A.ListExpr, env) -> str:
        if all(isinstance(i, A.Literal | A.Name) and (isinstance(i, A.Literal) or i.name
               not in env) for i in e.items):
            values: list[object] = []
            for item in e.items:
                if isinstance(item, A.Name):
                    values.append(self.tiers[item.name])
                elif cast(A.Literal, item).kind == "money" and self.units:
                    values.append(rt.to_units(cast(A.Literal, item).value))
                else:
                    values.append(cast(A.Literal, item).value)
            return self.const(frozenset(values) if values else ())
        return "(" + "".join(self.gen(i, env) + ", " for i in e.items) + ")"

    def _binary(self, e: A.Binary, env) -> str:
        op = e.op
        weekdays = _weekday_numbers(e.right) if op in ("==", "!=", "in", "not in") else None
        if weekdays is not None and isinstance(e.left, A.Call) and e.left.func == "weekday":
            # weekday(d) == SAT as d.weekday() == 5: no name lookup
            if self._event_time(e.left.args[0], env):
                self.uses.add("d")
                arg = "d"
            else:
                arg = self.gen(e.left.args[0], env)
            if op in ("==", "!="):
                return f"({arg}.weekday() {op} {weekdays[0]})"
            return f"({arg}.weekday() {op} {self.const(frozenset(weekdays))})"
        left = self.gen(e.left, env)
        if op in ("+", "-") and self.types.get(id(e.right)) == "duration":
            duration = cast(A.Literal, e.right).value
            amount = duration.amount if op == "+" else -duration.amount
            return f"_shift({left}, {amount!r}, {duration.unit!r})"
        right = self.gen(e.right, env)
        if self.units and "money" in (self.types.get(id(e.left)), self.types.get(id(e.right))):
            if op == "/":  # money / number, money / money: a Decimal, like Decimal money's
                return f"_divide_units({left}, {right})"
            if op == "*" and (_divides(e.left) or _divides(e.right)):
                return f"_multiply_units({left}, {right})"  # refuses a float, like Decimal
        if op == "/":
            return f"_divide({left}, {right})"
        return f"({left} {op} {right})"

    def _quant(self, e: A.Quant, env) -> str:
        grouped = self._grouped(e, env) if not env else None
        if grouped is not None:
            return grouped
        var = f"v{len(env)}_{e.var}"
        inner = {**env, e.var: var}
        self.in_iterable += 1  # Python allows no assignment expression in a loop's iterable
        try:
            iterable = self.gen(e.iterable, env)
        finally:
            self.in_iterable -= 1
        cond = self.gen(e.cond, inner) if e.cond is not None else None
        if e.kind in ("any", "all"):
            return f"{e.kind}({cond} for {var} in {iterable})"
        if e.kind == "count":
            return f"sum(1 for {var} in {iterable} if {cond})"
        value = self.gen(cast(A.Expr, e.value), inner)
        start = self.zero if self.types.get(id(e)) == "money" else "0"
        where = f" if {cond}" if cond is not None else ""
        return f"sum(({value} for {var} in {iterable}{where}), {start})"


class Group:
    """What one pass over a list computes, per value of a text attribute of its entries:
    `count` (a dict: key -> entries), sums over constant keys (one running total each) and
    sums per key of any key (a dict each)."""

    def __init__(self, count: str):
        self.count = count
        self.sums: dict[tuple[str, frozenset], tuple[str, str]] = {}  # -> (name, start)
        self.keyed: list[tuple[str, str, str]] = []  # (name, value, start)

    def names(self) -> list[str]:
        return ([self.count] + [name for name, _ in self.sums.values()]
                + [name for name, _, _ in self.keyed])

    def start(self, name: str) -> str:
        """The initial value of one of `names()` in the loop."""
        for total, start in self.sums.values():
            if total == name:
                return start
        return "{}"

    def sum_over(self, value: str, keys: frozenset, start: str) -> str:
        entry = self.sums.get((value, keys))
        if entry is None:
            entry = self.sums[(value, keys)] = (f"{self.count}_s{len(self.sums)}", start)
        return entry[0]

    def keyed_sum(self, value: str, start: str) -> str:
        for name, known, _ in self.keyed:
            if known == value:
                return name
        name = f"{self.count}_k{len(self.keyed)}"
        self.keyed.append((name, value, start))
        return name


def _divides(e: A.Expr) -> bool:
    """Whether an expression divides (the only way a number becomes a float)."""
    if isinstance(e, A.Binary):
        return e.op == "/" or _divides(e.left) or _divides(e.right)
    if isinstance(e, A.Unary):
        return _divides(e.operand)
    if isinstance(e, A.Quant):
        return any(_divides(x) for x in (e.iterable, e.cond, e.value) if x is not None)
    if isinstance(e, A.Call | A.ListExpr):
        return any(map(_divides, e.args if isinstance(e, A.Call) else e.items))
    return False


def _constant_strings(e: A.Expr) -> frozenset | None:
    if isinstance(e, A.Literal) and e.kind == "string":
        return frozenset([e.value])
    if isinstance(e, A.ListExpr) and all(isinstance(i, A.Literal) and i.kind == "string"
                                         for i in e.items):
        return frozenset(cast(A.Literal, i).value for i in e.items)
    return None


def _weekday_numbers(e: A.Expr) -> list[int] | None:
    """MON..SUN literals (alone or a list) as date.weekday() numbers."""
    items = e.items if isinstance(e, A.ListExpr) else [e]
    if not items or not all(isinstance(i, A.Literal) and i.kind == "weekday" for i in items):
        return None
    return [WEEKDAY_CODES.index(cast(A.Literal, i).value) for i in items]


def _is_var_attr(e: A.Expr, var: str) -> TypeGuard[A.Attr]:
    return isinstance(e, A.Attr) and isinstance(e.obj, A.Name) and e.obj.name == var


def _names(e: A.Expr | None):
    """Every Name and the object of every Attr chain in an expression."""
    if e is None:
        return
    if isinstance(e, A.Name):
        yield e.name
    elif isinstance(e, A.Attr):
        yield from _names(e.obj)
    elif isinstance(e, A.Call):
        for arg in e.args:
            yield from _names(arg)
    elif isinstance(e, A.Unary):
        yield from _names(e.operand)
    elif isinstance(e, A.Binary):
        yield from _names(e.left)
        yield from _names(e.right)
    elif isinstance(e, A.ListExpr):
        for item in e.items:
            yield from _names(item)
    elif isinstance(e, A.Quant):
        yield "<quantifier>"


def _mentions(e: A.Expr, var: str) -> bool:
    return any(name in (var, "<quantifier>") for name in _names(e))


def _mentions_outside(e: A.Expr, var: str) -> bool:
    """Whether an item expression reads anything but the item (so it cannot be grouped)."""
    return any(name != var for name in _names(e))


def key_of(e: A.Expr) -> str:
    """Structural identity of a condition, to evaluate one shared by rules only once."""
    return unparse(e)
