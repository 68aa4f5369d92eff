"""Evaluate a stream of events in order, counting caps, limits, budgets and history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from .memory import MemoryHistory
from .program import Program


def simulate(program: Program, events: Iterable[dict],
             history: MemoryHistory | None = None) -> Iterator[dict]:
    """One RULES.md result object per event; tier, points and consents are taken as given."""
    history = history if history is not None else MemoryHistory(program.tz)
    for event in events:
        history.load_member(event.get("member") or {})
        yield program.evaluate(event, history).to_json(event.get("id"))


def read_events(path: str | Path) -> Iterator[dict]:
    """Events from a JSON-lines file (blank lines and lines starting with # are skipped)."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                yield json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: invalid JSON: {err.msg}") from err


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(result: dict) -> str:
    """A result line as the CLI prints it (Decimal-safe, UTF-8 kept)."""
    return json.dumps(result, ensure_ascii=False, default=_default)
