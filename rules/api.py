"""compile_program / check_program: the compiler's front door."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from datetime import date

from . import ast as A
from .audience import tier_function
from .checker import Checked, Checker
from .compiler import ProgramCompiler
from .diagnostics import CompileError, Diagnostic, Reporter
from .parser import parse_module
from .program import FieldInfo, Program, PurposeInfo, RuleInfo, TierInfo, describe_award

Source = str | Sequence[tuple[str, str]]


def _sources(source: Source, filename: str) -> list[tuple[str, str]]:
    if isinstance(source, str):
        return [(filename, source)]
    return [(str(name), text) for name, text in source]


def _check(source: Source, filename: str, rewards: Iterable[str] | None,
           today: date | None) -> tuple[list[tuple[str, str]], Checked | None, list[Diagnostic]]:
    files = _sources(source, filename)
    order = {name: i for i, (name, _) in enumerate(files)}
    module = A.Module()
    diagnostics: list[Diagnostic] = []
    for name, text in files:
        part, errors = parse_module(text, name)
        diagnostics.extend(errors)
        if part is not None:
            for kind in ("programs", "purposes", "fields", "tiers", "rules",
                         "duplicate_clauses"):
                getattr(module, kind).extend(getattr(part, kind))
    report = Reporter()
    checked = None
    # A file with a syntax error still lets the others be checked; names it declared are
    # unknown, so the name checks would only add noise: skip them then.
    if not diagnostics:
        checked = Checker(module, report, rewards=rewards, today=today).run()
    diagnostics.extend(report.diagnostics)
    diagnostics.sort(key=lambda d: (order.get(d.filename, len(order)), d.line, d.column))
    return files, checked, diagnostics


def check_program(source: Source, *, filename: str = "<program>",
                  rewards: Iterable[str] | None = None, today: date | None = None
                  ) -> list[Diagnostic]:
    """Every diagnostic (errors and warnings) of a program, without raising."""
    return _check(source, filename, rewards, today)[2]


def compile_program(source: Source, *, filename: str = "<program>",
                    rewards: Iterable[str] | None = None, today: date | None = None
                    ) -> Program:
    """Compile a program; raises CompileError with every error found."""
    # Parsing and code generation make many small objects that all live until the end:
    # the cyclic collector would only walk them again and again (about a tenth of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        files, checked, diagnostics = _check(source, filename, rewards, today)
        if checked is None or any(d.severity == "error" for d in diagnostics):
            raise CompileError([d for d in diagnostics if d.severity == "error"] or diagnostics)
        return build_program(files, checked, [d for d in diagnostics if d.severity == "warning"])
    finally:
        if collecting:
            gc.enable()


def build_program(files, checked: Checked, warnings: list[Diagnostic]) -> Program:
    module = checked.module
    basis: dict[str | None, str | None] = {p.name: p.basis for p in module.purposes}
    purposes = [
        PurposeInfo(p.name, p.title, p.text, p.basis, [c for c, _ in p.channels], p.dpv,
                    p.pos.line, p.pos.filename)
        for p in module.purposes
    ]
    fields = [
        FieldInfo(f.name, f.type, f.label, f.ask, f.category, [p for p, _ in f.purposes],
                  list(f.options), f.pos.line, f.pos.filename)
        for f in module.fields
    ]
    tiers = [TierInfo(t.name, t.source.split(" when ", 1)[-1].strip(), t.title, t.pos.line)
             for t in module.tiers]
    rules = []
    for index, r in enumerate(module.rules):
        rules.append(RuleInfo(
            r.name, r.title, r.event, r.purpose, [n for n, _ in r.reads],
            describe_award(r.award), r.reward, r.cap, r.limit, r.budget, r.valid_from,
            r.valid_until, r.group, r.priority, r.pending, r.source, r.pos.line,
            r.pos.filename, index, basis.get(r.purpose) == "consent", r,
        ))
    program = Program(
        settings=checked.settings, purposes=purposes, fields=fields, tiers=tiers, rules=rules,
        read_fields=set(checked.read_fields), source=files, warnings=warnings,
        tier_names=[t.name for t in module.tiers],
    )
    program._checked = checked
    program.history_figures = checked.history_figures
    compiler = ProgramCompiler(checked, rules, program.tier_index,
                               {f.name: f for f in module.fields})
    program._evaluate = compiler.build(program)
    # Program.evaluate without the method call in between (same signature and result).
    program.evaluate = program._evaluate  # type: ignore[method-assign]  # deliberate: hot path
    program._tier_function = tier_function(program, module.tiers, checked.types)
    return program


__all__ = ["CompileError", "Reporter", "check_program", "compile_program"]
