"""The whole program → ONE generated Python function (dispatch on the event type).

Per event type the function reads each event and member value once into locals, then runs
the rules in declaration order as nested ifs: validity window, consent, shared profile
fields, then the conditions cheapest first. A condition used by several rules is evaluated
once; quantifiers over the items that select by category (or sku) share one pass over the
items. A rule that does not match allocates nothing; one that fires appends (index, points).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from . import ast as A
from . import runtime as rt
from .codegen import ExprGen, conjuncts, cost, key_of

_SHARE_COST = 3  # conditions cheaper than this are cheaper to repeat than to share
_ERRORS = "(TypeError, AttributeError, ValueError, ArithmeticError, KeyError)"
_READERS = {"text": "_text", "choice": "_text", "number": "_number", "date": "_date",
            "bool": "_bool"}


class Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[tuple, str] = {}
        self.namespace: dict[str, object] = {}

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
        "_resolve": resolve_groups, "Decimal": Decimal, "date": date,
    }


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
            reasons[entry[0]] = ("group", rules[winner[0]].name)
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
                             _RULES=self.infos)
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
        source = "\n".join(out.lines) + "\n"
        code = compile(source, "<rules program>", "exec")
        exec(code, out.namespace)  # noqa: S102 - generated from the checked tree only
        function = out.namespace["evaluate"]
        function.source = source
        return function

    def _event(self, event: str, infos: list) -> None:
        uses: set[str] = set()
        gen = ExprGen(self.checked.types, self.tiers, self.out.const, uses)
        shared = self._shared(infos)
        shared_names: dict[str, str] = {}
        body: list[str] = []
        for info in infos:
            body.extend(self._rule(info, gen, shared, shared_names, uses))
        depth = 2
        emit = self.out.emit
        emit(depth, "raw = []")
        emit(depth, "reasons = None")
        member_locals = {"m_tier", "m_points", "m_joined", "cons", "mid"}
        if uses & member_locals or any(u.startswith("p_") for u in uses):
            emit(depth, "member = event['member']")
        if "mid" in uses:
            emit(depth, "mid = str(member['id'])")
        if "cons" in uses:
            emit(depth, "cons = member.get('consents') or ()")
        if "m_tier" in uses:
            emit(depth, "m_tier = _TIERS.get(member.get('tier'), -1)")
        if "m_points" in uses:
            emit(depth, "m_points = _number(member.get('points')) or 0")
        if "m_joined" in uses:
            emit(depth, "m_joined = _date(member.get('joined_at'))")
        profile = sorted(u for u in uses if u.startswith("p_"))
        if profile:
            emit(depth, "profile = member.get('profile') or _EMPTY")
            for local in profile:
                reader = _READERS[self.fields[local[2:]].type]
                emit(depth, f"{local} = {reader}(profile.get({local[2:]!r}))")
        event_locals = sorted(u for u in uses if u.startswith("e_"))
        if event_locals:
            emit(depth, f"data = event.get({event!r}) or _EMPTY")
            for local in event_locals:
                name = local[2:]
                if name == "total":
                    emit(depth, f"{local} = _money(data.get('total')) or _ZERO")
                elif name == "items":
                    emit(depth, f"{local} = data.get('items') or ()")
                else:
                    emit(depth, f"{local} = data.get({name!r}) or ''")
        emit(depth, "at = _parse_at(event['at'], _TZ)" if uses & {"at", "d"} else "at = None")
        if "d" in uses:
            emit(depth, "d = at.date()")
        if "fig" in uses:
            emit(depth, "fig = {}")
        for name in list(shared_names.values()) + gen.group_names():
            emit(depth, f"{name} = None")
        self.out.lines.extend(gen.expand_groups(body))
        if sum(1 for i in infos if i.group is not None) > 1:
            emit(depth, "if len(raw) > 1:")
            emit(depth + 1, "raw, reasons = _resolve(_RULES, raw, reasons)")
        figures = "fig" if "fig" in uses else "None"
        emit(depth, "result = _Result()")
        emit(depth, "result.program = _PROGRAM; result.event = event; result.at = at")
        emit(depth, f"result.history = history; result.raw = raw; result.figures = {figures}; "
                    "result.reasons = reasons")
        emit(depth, "return result if history is None else _finish(result)")

    def _shared(self, infos: list) -> set[str]:
        counts = Counter(
            key_of(c) for info in infos for c in conjuncts(info.decl.when)
            if cost(c) >= _SHARE_COST
        )
        return {key for key, n in counts.items() if n > 1}

    def _rule(self, info, gen: ExprGen, shared, shared_names, uses) -> list[str]:
        decl: A.RuleDecl = info.decl
        block = Block(2)
        block.emit(f"# rule {info.name}")
        block.open("try:")
        guards = []
        if decl.valid_from is not None:
            guards.append(f"{self.out.const(decl.valid_from)} <= d")
        if decl.valid_until is not None:
            guards.append(f"d <= {self.out.const(decl.valid_until)}")
        if guards:
            uses.update({"at", "d"})
        if info.consent_required:
            uses.add("cons")
            guards.append(f"{info.purpose!r} in cons")
        for name in sorted(self.checked.rule_fields.get(info.name, ())):
            guards.append(f"p_{name} is not None")
            uses.add(f"p_{name}")
        for guard in guards:
            block.open(f"if {guard}:")
        for conj in conjuncts(decl.when):
            key = key_of(conj)
            code = gen.gen(conj)
            gen.flush_groups(block)
            if key in shared:
                name = shared_names.setdefault(key, f"s{len(shared_names)}")
                block.emit(f"if {name} is None:")
                block.emit(f"    {name} = bool({code})")
                code = name
            block.open(f"if {code}:")
        award = self._award(decl.award, gen)
        gen.flush_groups(block)
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
        block.emit(f"except {_ERRORS}:")
        block.emit("    if reasons is None: reasons = {}")
        block.emit(f"    reasons[{info.index}] = ('error', None)")
        return block.lines

    def _limits(self, info, block: Block, uses: set[str]) -> None:
        """Limits, caps and budgets: count what was awarded; cut an award to what remains."""
        decl: A.RuleDecl = info.decl
        uses.update({"mid", "at"})
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
            amount = award.amount.value
            of = gen.gen(award.of)
            per = self.out.const(award.per)
            if of.isidentifier():  # a local such as e_total: inline N × ⌊X / M⌋
                scale = "" if amount == 1 else f"{amount!r} * "
                return f"({scale}int({of} // {per}) if {of} > 0 else 0)"
            return f"_per({amount!r}, {per}, {of})"
        if isinstance(award.amount, A.Literal) and isinstance(award.amount.value, int):
            return repr(award.amount.value)
        return f"_floor({gen.gen(award.amount)})"
