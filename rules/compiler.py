"""The whole program → ONE generated Python function (dispatch on the event type).

Per event type the function reads each event and member value once into locals, then runs
the rules in declaration order as nested ifs: validity window, consent, shared profile
fields, then the conditions cheapest first. A condition used by several rules is evaluated
once; quantifiers over the items that select by category (or sku) share one pass over the
items. A rule that does not match allocates nothing; one that fires appends (index, points).
An event type with many guarded rules runs only the candidates its rule index (index.py)
selects, still in declaration order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from datetime import date
from decimal import Decimal
from typing import Any, cast

from . import ast as A
from . import runtime as rt
from .codegen import ExprGen, conjuncts, cost, key_of
from .index import (
    INDEX_MIN_RULES,
    RuleIndex,
    build_index,
    day_masks,
    item_masks,
    key_masks,
    never_raises,
    value_masks,
)

_SHARE_COST = 3  # conditions cheaper than this are cheaper to repeat than to share
_WINDOWS = -1  # in `decided`: the index has checked every rule's validity window
_ERRORS = (TypeError, AttributeError, ValueError, ArithmeticError, KeyError)  # = EVAL_ERRORS
_READERS = {"text": "_text", "choice": "_text", "number": "_number", "date": "_date",
            "bool": "_bool"}


class Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[tuple, str] = {}
        self.namespace: dict[str, Any] = {}
        self.helpers: list[str] = []  # module-level functions the evaluator calls

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def const(self, value) -> str:
        key = (type(value), value)
        if key not in self.consts:
            name = f"_k{len(self.consts)}"
            self.consts[key] = name
            self.namespace[name] = value
        return self.consts[key]


class Block:
    """Lines of generated code at a growing indentation."""

    def __init__(self, depth: int):
        self.depth = depth
        self.lines: list[str] = []

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def open(self, line: str) -> None:
        self.emit(line)
        self.depth += 1


def base_namespace() -> dict:
    return {
        "_money": rt.money, "_number": rt.number, "_date": rt.as_date, "_text": rt.as_text,
        "_bool": rt.as_bool, "_parse_at": rt.parse_at, "_WEEKDAYS": rt.WEEKDAY_CODES,
        "_age": rt.age, "_days_since": rt.days_since, "_shift": rt.shift,
        "_divide": rt.divide, "_floor": rt.floor_points, "_per": rt.per_points,
        "_bounds": rt.period_bounds, "_ZERO": rt.ZERO, "_figure": rt.figure,
        "_Result": rt.Result, "_Ctx": rt.EventContext, "_finish": rt.finish, "_EMPTY": {},
        "_resolve": resolve_groups, "_error": record_error, "_ERRORS": _ERRORS,
        "Decimal": Decimal, "date": date, "_MONEY": rt.MONEY_CACHE,
        "_money_text": rt.money_text, "_ksum": rt.keyed_sum,
        "_local": rt.local_parts, "_MMSS": rt.MINUTES_SECONDS,
        "_units": rt.units, "_UNITS": rt.UNITS_CACHE, "_units_text": rt.units_text,
        "_to_units": rt.to_units, "_divide_units": rt.divide_units,
        "_multiply_units": rt.multiply_units, "_UNSUMMABLE": rt.UNSUMMABLE,
        "_UNREAD": rt.UNREAD, "_TOTALS": rt.TOTALS_CACHE, "_total_units": rt.total_units,
        "_S13": rt.TIME_SLICES[0], "_S13_19": rt.TIME_SLICES[1], "_S19": rt.TIME_SLICES[2],
    }


def record_error(reasons: dict | None, index: int) -> dict:
    """A rule that could not be evaluated (missing or invalid data) does not fire."""
    if reasons is None:
        reasons = {}
    reasons[index] = ("error", None)
    return reasons


def resolve_groups(rules: list, raw: list, reasons: dict | None):
    """Of the rules of one group that fired, only the one with the largest priority stays."""
    best: dict[str, tuple] = {}
    for entry in raw:
        info = rules[entry[0]]
        if info.group is not None and (info.group not in best
                                       or info.priority > rules[best[info.group][0]].priority):
            best[info.group] = entry
    if not best:
        return raw, reasons
    kept = []
    for entry in raw:
        group = rules[entry[0]].group
        winner = best.get(group) if group is not None else entry
        if winner is entry:
            kept.append(entry)
        else:
            reasons = reasons if reasons is not None else {}
            reasons[entry[0]] = ("group", rules[cast(tuple, winner)[0]].name)
    return kept, reasons


class ProgramCompiler:
    def __init__(self, checked, infos: list, tiers: dict[str, int], fields: dict):
        self.checked = checked
        self.infos = infos  # RuleInfo per rule, in declaration order
        self.tiers = tiers
        self.fields = fields
        self.out = Emitter()

    def build(self, program) -> object:
        """Generate, compile() and return the program's evaluate(event, history) function."""
        out = self.out
        out.namespace.update(base_namespace())
        out.namespace.update(_PROGRAM=program, _TZ=program.tz, _TIERS=self.tiers,
                             _RULES=self.infos, _LOCAL={},
                             _Result=rt.Result.for_program(program))
        out.emit(0, "def evaluate(event, history=None):")
        out.emit(1, "kind = event['type']")
        by_event: dict[str, list] = {}
        for info in self.infos:
            if info.event is not None:
                by_event.setdefault(info.event, []).append(info)
        keyword = "if"
        for event, infos in by_event.items():
            out.emit(1, f"{keyword} kind == {event!r}:")
            self._event(event, infos)
            keyword = "elif"
        out.emit(1, "result = _Result.make(_PROGRAM, event, None, history, [])")
        out.emit(1, "return result if history is None else _finish(result)")
        source = "\n".join(out.lines + out.helpers) + "\n"
        code = compile(source, "<rules program>", "exec")
        exec(code, out.namespace)  # noqa: S102 - generated from the checked tree only
        function = out.namespace["evaluate"]
        function.source = source
        return function

    def _event(self, event: str, infos: list) -> None:
        uses: set[str] = set()
        gen = ExprGen(self.checked.types, self.tiers, self.out.const, uses, units=True)
        shared = self._shared(infos)
        shared_names: dict[str, str] = {}
        index = None
        if len(infos) >= INDEX_MIN_RULES:
            index = build_index(infos, self.checked.types, self.tiers, self.out.const)
            if index.guarded() * 2 < len(infos):
                index = None
        preamble: list[str] = []
        decided: set[int] = set()  # ids of conjuncts (and of decls: windows) the index decides
        if index is not None:
            preamble, decided = self._index_tables(index, uses)
            gen.sum_helpers, gen.sum_prefix = self.out.helpers, f"_sv_{event}_"
        bodies = [self._rule(info, gen, shared, shared_names, uses, decided) for info in infos]
        if index is None:
            body = [line for lines in bodies for line in lines]
        else:
            body = preamble + self._dispatch(bodies)
        depth = 2
        emit = self.out.emit
        emit(depth, "raw = []")
        emit(depth, "reasons = None")
        member_locals = {"m_tier", "m_points", "m_joined", "cons", "mid"}
        if uses & member_locals or any(u.startswith("p_") for u in uses):
            emit(depth, "member = event['member']")
        if "cons" in uses:
            emit(depth, "cons = member.get('consents') or ()")
        if "m_tier" in uses:
            emit(depth, "m_tier = _TIERS.get(member.get('tier'), -1)")
        if "m_points" in uses:
            emit(depth, "m_points = _number(member.get('points')) or 0")
        if "m_joined" in uses:
            emit(depth, "m_joined = _date(member.get('joined_at'))")
        profile = sorted(u for u in uses if u.startswith("p_"))
        if profile:  # read by the first rule that gets past its consent (_field_read)
            emit(depth, " = ".join(profile) + " = _UNREAD")
        event_locals = sorted(u for u in uses if u.startswith("e_"))
        if event_locals:
            emit(depth, f"data = event.get({event!r}) or _EMPTY")
            for local in event_locals:
                name = local[2:]
                if name == "total":
                    # total_units() (money in hundredths, zero if missing), inline for a
                    # string seen before; an unhashable total goes the long way
                    emit(depth, "t = data.get('total')")
                    emit(depth, f"try: {local} = _TOTALS.get(t)")
                    emit(depth, f"except TypeError: {local} = None")
                    emit(depth, f"if {local} is None: {local} = _total_units(t)")
                elif name == "items":
                    emit(depth, f"{local} = data.get('items') or ()")
                else:
                    emit(depth, f"{local} = data.get({name!r}) or ''")
        if uses & {"at", "d", "hr"}:
            # The local date and hour, kept per hour of event time (runtime.local_parts);
            # `at`, the datetime, is None when they came from there.
            emit(depth, "ts = event['at']")
            emit(depth, "try: tc = _LOCAL[ts[_S19]][ts[_S13]] if ts[_S13_19] in _MMSS "
                        "else None")
            emit(depth, "except (KeyError, TypeError): tc = None  # not seen, not a string")
            emit(depth, "if tc is None: tc = _local(ts, _TZ, _LOCAL)")
            emit(depth, "d, hr, at = tc")
            if "at" in uses:
                emit(depth, "if at is None: at = _parse_at(ts, _TZ)")
        else:
            emit(depth, "at = None")
        if "mid" in uses:
            # only a history needs the member's id and the event's datetime
            emit(depth, "if history is not None:")
            emit(depth + 1, "mid = member['id']")
            emit(depth + 1, "if type(mid) is not str: mid = str(mid)")
            emit(depth + 1, "if at is None: at = _parse_at(event['at'], _TZ)")
            emit(depth, "else:")
            emit(depth + 1, "mid = None")
        if "fig" in uses:
            emit(depth, "fig = {}")
        # shared conditions and groups not computed yet (a group's sums are set with it)
        for name in [*shared_names.values(), *(g.count for g in gen.groups.values())]:
            emit(depth, f"{name} = None")
        self.out.lines.extend(gen.expand_groups(body, self.out.helpers, f"_grp_{event}"))
        if sum(1 for i in infos if i.group is not None) > 1:
            emit(depth, "if len(raw) > 1:")
            emit(depth + 1, "raw, reasons = _resolve(_RULES, raw, reasons)")
        emit(depth, "result = _Result()")  # the program's own class: program is set
        emit(depth, "result.event = event; result.raw = raw; result.at = at; "
                    "result.reasons = reasons")
        if "fig" in uses:
            emit(depth, "result.figures = fig")
        emit(depth, "if history is None: return result")
        emit(depth, "result.history = history")
        emit(depth, "return _finish(result)")

    def _index_tables(self, index: RuleIndex, uses: set[str]) -> tuple[list[str], set[int]]:
        """The index's tables (in the namespace) and the code computing `cand`, the mask of
        candidate rules; also the conjuncts every candidate is known to satisfy."""
        ns = self.out.namespace
        prefix = f"_ix{sum(1 for k in ns if k.startswith('_ix') and k.endswith('_all'))}"
        everything = index.all
        ns[f"{prefix}_all"] = everything
        lines: list[str] = []
        decided: set[int] = set()

        def emit(depth: int, line: str) -> None:
            lines.append("    " * (2 + depth) + line)

        def predicates(preds: list, var: str, values=None) -> list:
            source = "(" + "".join(f"({bit}, lambda {var}: {code}), "
                                   for bit, code, _ in preds) + ")"
            compiled = eval(source, ns)  # noqa: S307 - generated from the checked tree only
            for (_, _, conj), (_, pred) in zip(preds, compiled, strict=True):
                # a candidate satisfies a guard that never raises: the rule need not test it
                if conj is not None and values is not None and never_raises(pred, values):
                    decided.add(id(conj))
            return compiled

        # Date, tier and hour never fail to look up: their masks hold for every candidate.
        if index.date_preds:
            uses.add("d")
            cache, day_mask = day_masks(predicates(index.date_preds, "d"), everything)
            ns[f"{prefix}_days"], ns[f"{prefix}_day"] = cache, day_mask
            emit(0, f"cand = {prefix}_days.get(d)")
            emit(0, "if cand is None:")
            emit(1, f"cand = {prefix}_day(d)")
        else:
            emit(0, f"cand = {prefix}_all")
        if index.tier_preds:
            uses.add("m_tier")
            tiers = range(-1, len(self.tiers))
            ns[f"{prefix}_tier"] = value_masks(predicates(index.tier_preds, "m_tier", tiers),
                                               tiers, everything)
            emit(0, f"cand &= {prefix}_tier[m_tier + 1]")
        if index.hour_preds:
            uses.add("hr")
            hours = range(24)
            ns[f"{prefix}_hour"] = value_masks(predicates(index.hour_preds, "h", hours), hours,
                                               everything)
            emit(0, f"cand &= {prefix}_hour[hr]")
        # Event and item attributes may be anything: if they cannot be looked up, their
        # guards filter nothing (the rules test them themselves).
        if index.attr_keys or index.item_keys:
            emit(0, "try:")
            for n, (attr, per_rule) in enumerate(sorted(index.attr_keys.items())):
                local = "e_" + attr
                uses.add(local)
                ns[f"{prefix}_a{n}"], ns[f"{prefix}_u{n}"] = key_masks(per_rule, everything)
                emit(1, f"cand &= {prefix}_a{n}.get({local}, {prefix}_u{n})")
            if index.item_keys:
                uses.add("e_items")
                attrs = sorted(index.item_keys)
                for n, attr in enumerate(attrs):
                    ns[f"{prefix}_i{n}"], ns[f"{prefix}_v{n}"] = item_masks(
                        index.item_keys[attr], everything)
                emit(1, "; ".join(f"ok{n} = {prefix}_v{n}" for n in range(len(attrs))))
                emit(1, "for it in e_items:")
                for n, attr in enumerate(attrs):
                    emit(2, f"ok{n} |= {prefix}_i{n}.get(it.get({attr!r}), 0)")
                emit(1, "cand &= " + " & ".join(f"ok{n}" for n in range(len(attrs))))
            emit(0, "except _ERRORS:")
            emit(1, "pass")
        return lines, decided | {_WINDOWS}

    def _dispatch(self, bodies: list[list[str]]) -> list[str]:
        """Each candidate's code at the leaf of a binary tree on its position: candidates run
        in declaration order, the other rules cost nothing."""
        lines: list[str] = []

        def emit(depth: int, line: str) -> None:
            lines.append("    " * (2 + depth) + line)

        emit(0, "while cand:")
        emit(1, "low = cand & -cand")
        emit(1, "cand ^= low")
        emit(1, "i = low.bit_length()")

        def tree(lo: int, hi: int, depth: int) -> None:  # rules lo..hi-1; i is position + 1
            if hi - lo == 1:
                indent = "    " * depth
                lines.extend(indent + line for line in bodies[lo])
                return
            mid = (lo + hi) // 2
            emit(depth, f"if i <= {mid}:")
            tree(lo, mid, depth + 1)
            emit(depth, "else:")
            tree(mid, hi, depth + 1)

        tree(0, len(bodies), 1)
        return lines

    def _shared(self, infos: list) -> set[str]:
        counts = Counter(
            key_of(c) for info in infos for c in conjuncts(info.decl.when)
            if cost(c) >= _SHARE_COST
        )
        return {key for key, n in counts.items() if n > 1}

    def _rule(self, info, gen: ExprGen, shared, shared_names, uses,
              decided: Set[int] = frozenset()) -> list[str]:
        decl: A.RuleDecl = info.decl
        block = Block(2)
        block.emit(f"# rule {info.name}")
        block.open("try:")
        guards = []
        if decl.valid_from is not None and _WINDOWS not in decided:
            guards.append(f"{self.out.const(decl.valid_from)} <= d")
        if decl.valid_until is not None and _WINDOWS not in decided:
            guards.append(f"d <= {self.out.const(decl.valid_until)}")
        if guards:
            uses.add("d")
        if info.consent_required:
            uses.add("cons")
            guards.append(f"{info.purpose!r} in cons")
        for guard in guards:
            block.open(f"if {guard}:")
        for name in sorted(self.checked.rule_fields.get(info.name, ())):
            local = f"p_{name}"
            uses.add(local)
            block.emit(f"if {local} is _UNREAD:")
            block.emit(f"    {self._field_read(name)}")
            block.open(f"if {local} is not None:")
        for conj in conjuncts(decl.when):
            if id(conj) in decided:
                continue
            key = key_of(conj)
            code = gen.gen(conj)
            gen.flush_groups(block)
            # worth sharing: loops and history (a grouped quantifier is a dict lookup)
            if key in shared and (" for " in code or "_figure(" in code):
                name = shared_names.setdefault(key, f"s{len(shared_names)}")
                block.emit(f"if {name} is None:")
                block.emit(f"    {name} = bool({code})")
                code = name
            block.open(f"if {code}:")
        award = self._award(decl.award, gen)
        gen.flush_groups(block)
        if award.startswith("\0"):
            _, of, award = award.split("\0")
            block.emit(f"x = {of}")
        if info.reward is None and not award.isdigit():
            block.emit(f"pts = {award}")
            block.open("if pts > 0:")
            points = "pts"
        else:
            points = award
        if decl.limit or decl.cap or decl.budget:
            if points != "pts":
                block.emit(f"pts = {points}")
                points = "pts"
            self._limits(info, block, uses)
        block.emit(f"raw.append(({info.index}, {points}))")
        block.depth = 2
        block.emit("except _ERRORS:")
        block.emit(f"    reasons = _error(reasons, {info.index})")
        return block.lines

    def _field_read(self, name: str) -> str:
        """The statement reading profile field `name` into p_NAME (None: not shared)."""
        local, reader = f"p_{name}", _READERS[self.fields[name].type]
        read = f"(member.get('profile') or _EMPTY).get({name!r})"
        if reader == "_text":  # as_text, inline
            return f"{local} = {read}; {local} = {local} if isinstance({local}, str) else None"
        return f"{local} = {reader}({read})"

    def _limits(self, info, block: Block, uses: set[str]) -> None:
        """Limits, caps and budgets: count what was awarded; cut an award to what remains."""
        decl: A.RuleDecl = info.decl
        uses.add("mid")  # and with it `at` when there is a history
        fires = "pts > 0" if info.reward is None else "True"
        index = info.index

        def reason(kind: str, data: str) -> None:
            block.emit("    if reasons is None: reasons = {}")
            block.emit(f"    reasons[{index}] = ({kind!r}, {data})")

        if decl.limit is not None:
            amount, period = decl.limit
            block.emit(f"used = history.rule_usage(mid, {info.name!r}, *_bounds(at, {period!r}))"
                       " if history is not None else (0, 0)")
            block.emit(f"if used[0] >= {amount!r}:")
            reason("limit", "used")
            block.open("else:")
        if decl.cap is not None:
            amount, period = decl.cap
            block.emit(f"used = history.rule_usage(mid, {info.name!r}, *_bounds(at, {period!r}))"
                       " if history is not None else (0, 0)")
            block.emit(f"if pts > {amount!r} - used[1]:")
            block.emit(f"    pts = max({amount!r} - used[1], 0)")
            reason("cap", "used")
            block.open(f"if {fires}:")
        if decl.budget is not None:
            block.emit(f"awarded = history.budget_used({info.name!r})"
                       " if history is not None else 0")
            block.emit(f"if pts > {decl.budget!r} - awarded:")
            block.emit(f"    pts = max({decl.budget!r} - awarded, 0)")
            reason("budget", "awarded")
            block.open(f"if {fires}:")

    def _award(self, award: A.Award | None, gen: ExprGen) -> str:
        if award is None:
            return "0"
        if award.per is not None:
            amount = cast(A.Literal, award.amount).value
            of = gen.gen(cast(A.Expr, award.of))
            units = rt.to_units(award.per)  # X and M both in hundredths: the scale cancels
            per = repr(units) if type(units) is int else self.out.const(units)
            scale = "" if amount == 1 else f"{amount!r} * "
            # N × ⌊X / M⌋ inline; for a positive X, // is the floor, and __floor__ makes an
            # int of it (a Decimal's; an infinite amount raises, as with Decimal money); a
            # money expression is never None
            if of.isidentifier():  # a local such as e_total
                return f"({scale}({of} // {per}).__floor__() if {of} > 0 else 0)"
            return f"\0{of}\0({scale}(x // {per}).__floor__() if x > 0 else 0)"
        if isinstance(award.amount, A.Literal) and isinstance(award.amount.value, int):
            return repr(award.amount.value)
        return f"_floor({gen.gen(award.amount)})"
