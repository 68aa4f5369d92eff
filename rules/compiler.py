"""The whole program → ONE generated Python function (dispatch on the event type)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from . import ast as A
from . import runtime as rt
from .codegen import ExprGen, conjuncts, cost, key_of

_SHARE_COST = 3  # conditions cheaper than this are cheaper to repeat than to share


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


def base_namespace() -> dict:
    return {
        "_money": rt.money, "_number": rt.number, "_date": rt.as_date, "_text": rt.as_text,
        "_bool": rt.as_bool, "_parse_at": rt.parse_at, "_WEEKDAYS": rt.WEEKDAY_CODES,
        "_age": rt.age, "_days_since": rt.days_since, "_shift": rt.shift,
        "_divide": rt.divide, "_floor": rt.floor_points, "_per": rt.per_points,
        "_bounds": rt.period_bounds, "_ZERO": rt.ZERO, "_Effect": rt.Effect,
        "_Result": rt.Result, "_Ctx": rt.EventContext, "_EMPTY": {}, "_resolve": resolve_groups,
        "Decimal": Decimal, "date": date,
    }


def resolve_groups(effects: list, ctx: rt.EventContext) -> list:
    """Of the rules of one group that fired, only the one with the largest priority stays."""
    best: dict[str, rt.Effect] = {}
    for effect in effects:
        group = effect.info.group
        if group is not None and (group not in best
                                  or effect.info.priority > best[group].info.priority):
            best[group] = effect
    if not best:
        return effects
    kept = []
    for effect in effects:
        winner = best.get(effect.info.group) if effect.info.group is not None else effect
        if winner is effect:
            kept.append(effect)
        else:
            ctx.reason(effect.info.index, "group", winner.info.name)
    return kept


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
        out.namespace["_PROGRAM"] = program
        out.namespace["_TZ"] = program.tz
        out.namespace["_TIERS"] = self.tiers
        for info in self.infos:
            out.namespace[f"_R{info.index}"] = info
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
        out.emit(1, "ctx = _Ctx(_PROGRAM, event, None, history)")
        out.emit(1, "return _Result([], ctx)")
        source = "\n".join(out.lines) + "\n"
        code = compile(source, "<rules program>", "exec")
        exec(code, out.namespace)  # noqa: S102 - generated from the checked tree only
        function = out.namespace["evaluate"]
        function.source = source
        return function

    def _event(self, event: str, infos: list) -> None:
        body: list[str] = []
        uses: set[str] = set()
        gen = ExprGen(self.checked.types, self.tiers, self.out.const, uses)
        shared = self._shared(infos)
        shared_names: dict[str, str] = {}
        depth0 = 2
        for info in infos:
            body.extend(self._rule(info, gen, shared, shared_names, uses))
        out = self.out
        out.emit(depth0, "ctx = _Ctx(_PROGRAM, event, None, history)")
        out.emit(depth0, "effects = []")
        member_needed = {"m_tier", "m_points", "m_joined", "cons"} & uses or any(
            u.startswith("p_") for u in uses) or "mid" in uses
        if member_needed:
            out.emit(depth0, "member = event['member']")
        if "mid" in uses:
            out.emit(depth0, "mid = str(member['id'])")
        if "cons" in uses:
            out.emit(depth0, "cons = member.get('consents') or ()")
        if "m_tier" in uses:
            out.emit(depth0, "m_tier = _TIERS.get(member.get('tier'), -1)")
        if "m_points" in uses:
            out.emit(depth0, "m_points = _number(member.get('points')) or 0")
        if "m_joined" in uses:
            out.emit(depth0, "m_joined = _date(member.get('joined_at'))")
        profile = sorted(u for u in uses if u.startswith("p_"))
        if profile:
            out.emit(depth0, "profile = member.get('profile') or _EMPTY")
            for local in profile:
                reader = {"text": "_text", "choice": "_text", "number": "_number",
                          "date": "_date", "bool": "_bool"}[self.fields[local[2:]].type]
                out.emit(depth0, f"{local} = {reader}(profile.get({local[2:]!r}))")
        event_locals = sorted(u for u in uses if u.startswith("e_"))
        if event_locals:
            out.emit(depth0, f"data = event.get({event!r}) or _EMPTY")
            for local in event_locals:
                name = local[2:]
                if name == "total":
                    out.emit(depth0, f"{local} = _money(data.get('total')) or _ZERO")
                elif name == "items":
                    out.emit(depth0, f"{local} = data.get('items') or ()")
                else:
                    out.emit(depth0, f"{local} = data.get({name!r}) or ''")
        if uses & {"at", "d"}:
            out.emit(depth0, "at = ctx.at = _parse_at(event['at'], _TZ)")
        if "d" in uses:
            out.emit(depth0, "d = at.date()")
        for name in shared_names.values():
            out.emit(depth0, f"{name} = None")
        self.out.lines.extend(body)
        if len([i for i in infos if i.group is not None]) > 1:
            out.emit(depth0, "if len(effects) > 1:")
            out.emit(depth0 + 1, "effects = _resolve(effects, ctx)")
        out.emit(depth0, "if history is not None:")
        out.emit(depth0 + 1, "history.record(event, ctx.local_time(), effects)")
        out.emit(depth0, "return _Result(effects, ctx)")

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
        block.emit("try:")
        block.depth += 1
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
            if key in shared:
                name = shared_names.setdefault(key, f"s{len(shared_names)}")
                block.emit(f"if {name} is None:")
                block.emit(f"    {name} = bool({code})")
                code = name
            block.open(f"if {code}:")
        block.emit(f"pts = {self._award(decl.award, gen)}")
        fires = "pts > 0" if info.reward is None else "True"
        block.open(f"if {fires}:")
        self._limits(info, block, uses)
        block.emit(f"effects.append(_Effect(_R{info.index}, pts, ctx))")
        block.depth = 2
        block.emit("except (TypeError, AttributeError, ValueError, ArithmeticError):")
        block.emit(f"    ctx.reason({info.index}, 'error', None)")
        return block.lines

    def _limits(self, info, block: Block, uses: set[str]) -> None:
        """Limits, caps and budgets: count what was awarded; cut an award to what remains."""
        decl: A.RuleDecl = info.decl
        if decl.limit is None and decl.cap is None and decl.budget is None:
            return
        uses.update({"mid", "at"})
        fires = "pts > 0" if info.reward is None else "True"
        i = info.index
        if decl.limit is not None:
            amount, period = decl.limit
            block.emit(f"used = history.rule_usage(mid, {info.name!r}, *_bounds(at, {period!r}))"
                       " if history is not None else (0, 0)")
            block.emit(f"if used[0] >= {amount!r}:")
            block.emit(f"    ctx.reason({i}, 'limit', used)")
            block.open("else:")
        if decl.cap is not None:
            amount, period = decl.cap
            block.emit(f"used = history.rule_usage(mid, {info.name!r}, *_bounds(at, {period!r}))"
                       " if history is not None else (0, 0)")
            block.emit(f"if pts > {amount!r} - used[1]:")
            block.emit(f"    pts = max({amount!r} - used[1], 0)")
            block.emit(f"    ctx.reason({i}, 'cap', used)")
            block.open(f"if {fires}:")
        if decl.budget is not None:
            block.emit(f"spent_budget = history.budget_used({info.name!r})"
                       " if history is not None else 0")
            block.emit(f"if pts > {decl.budget!r} - spent_budget:")
            block.emit(f"    pts = max({decl.budget!r} - spent_budget, 0)")
            block.emit(f"    ctx.reason({i}, 'budget', spent_budget)")
            block.open(f"if {fires}:")

    def _award(self, award: A.Award | None, gen: ExprGen) -> str:
        if award is None:
            return "0"
        if award.per is not None:
            return f"_per({award.amount.value!r}, {self.out.const(award.per)}, " \
                   f"{gen.gen(award.of)})"
        if isinstance(award.amount, A.Literal) and isinstance(award.amount.value, int):
            return repr(award.amount.value)
        return f"_floor({gen.gen(award.amount)})"

