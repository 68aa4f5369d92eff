"""Test cases kept beside the rules: `cafe.rules` is tested by `cafe.tests.json`.

A test file is a JSON list of cases (format in rules/README.md):
    [{"name": "gold member gets double points",
      "today": "2026-12-01",                       # optional, for the checker's warnings
      "events": [EVENT, ...],                      # shaped like EVENTS.jsonl lines
      "expect": [{"effects": {"base_points": 60},  # exactly the rules that fire, with points
                  "rewards": {"rule": "voucher"},  # optional
                  "not_fired": {"coffee_double": "cap reached"}}]}]  # optional: rule -> why part
Each case starts from an empty MemoryHistory (members may carry "history").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from .api import compile_program
from .diagnostics import CompileError
from .memory import MemoryHistory

TEST_SUFFIX = ".tests.json"


def test_files_for(rules_files: Iterable[str | Path]) -> list[Path]:
    found = []
    for name in rules_files:
        path = Path(name)
        candidate = path if path.name.endswith(TEST_SUFFIX) else path.with_suffix(TEST_SUFFIX)
        if candidate.exists() and candidate not in found:
            found.append(candidate)
    return found


def _check_event(number: int, expected: dict, result, messages: list[str], name: str) -> bool:
    ok = True
    got = {e.rule: e.points for e in result.effects}
    want = expected.get("effects", {})
    if got != want:
        messages.append(f"{name}: event {number}: expected effects {want}, got {got}")
        ok = False
    for rule, reward in (expected.get("rewards") or {}).items():
        actual = next((e.reward for e in result.effects if e.rule == rule), None)
        if actual != reward:
            messages.append(f"{name}: event {number}: expected {rule} to grant {reward}, "
                            f"got {actual}")
            ok = False
    not_fired = {n.rule: n.why for n in result.not_fired}
    wanted = expected.get("not_fired") or {}
    if isinstance(wanted, list):
        wanted = dict.fromkeys(wanted, "")
    for rule, why in wanted.items():
        if rule not in not_fired:
            messages.append(f"{name}: event {number}: expected {rule} not to fire")
            ok = False
        elif why and why not in not_fired[rule]:
            messages.append(f"{name}: event {number}: {rule} did not fire because "
                            f"'{not_fired[rule]}', expected '{why}'")
            ok = False
    return ok


class TestReport(NamedTuple):
    """What run_tests found; unpacks as (passed, failed, messages)."""

    passed: int
    failed: int
    messages: list[str]

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def failures(self) -> list[str]:
        return self.messages if self.failed else []


def program_files(files: list[Path]) -> list[Path]:
    """The rules files of the program: those given, or (given only test files) every
    *.rules file in the test files' directories, in name order."""
    rules_files = [f for f in files if not f.name.endswith(TEST_SUFFIX)]
    if rules_files:
        return rules_files
    folders = dict.fromkeys(f.parent for f in files)
    return [path for folder in folders for path in sorted(folder.glob("*.rules"))]


def run_tests(files: Iterable[str | Path]) -> TestReport:
    """Compile the rules files as one program and run the test cases beside them."""
    paths = [Path(f) for f in files]
    rules_files = program_files(paths)
    sources = [(str(f), f.read_text(encoding="utf-8")) for f in rules_files]
    try:
        program = compile_program(sources)
    except CompileError as err:
        return TestReport(0, 1, [str(d) for d in err.diagnostics])
    passed = failed = 0
    messages: list[str] = []
    tests = test_files_for(paths) or test_files_for(rules_files)
    if not tests:
        messages.append("no test files found (expected " +
                        ", ".join(str(f.with_suffix(TEST_SUFFIX)) for f in rules_files) + ")")
    for path in tests:
        cases = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        for index, case in enumerate(cases, 1):
            name = f"{path}: {case.get('name', f'case {index}')}"
            history = MemoryHistory(program.tz)
            ok = True
            expects = case.get("expect", [])
            if len(expects) != len(case.get("events", [])):
                messages.append(f"{name}: {len(case.get('events', []))} events but "
                                f"{len(expects)} expectations")
                ok = False
            for number, (event, expected) in enumerate(zip(case.get("events", []), expects,
                                                            strict=False), 1):
                history.load_member(event.get("member") or {})
                result = program.evaluate(event, history)
                ok = _check_event(number, expected, result, messages, name) and ok
            passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    return TestReport(passed, failed, messages)
