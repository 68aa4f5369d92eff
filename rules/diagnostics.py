"""Compiler diagnostics in the `FILE:LINE:COL: severity: MESSAGE` form of RULES.md."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from .ast import Pos


@dataclass(frozen=True, slots=True)
class Diagnostic:
    filename: str
    line: int
    column: int
    severity: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}: {self.severity}: {self.message}"

    def to_dict(self) -> dict:
        return {
            "filename": self.filename,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
        }


class CompileError(Exception):
    """A program (or audience condition) that does not compile; `.diagnostics` says why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """The `; did you mean 'x'?` suffix for an unknown name, or "" when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class Reporter:
    """Collects diagnostics so that every independent problem is reported in one run."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, pos: Pos, message: str) -> None:
        self.diagnostics.append(Diagnostic(pos.filename, pos.line, pos.column, "error", message))

    def warning(self, pos: Pos, message: str) -> None:
        self.diagnostics.append(
            Diagnostic(pos.filename, pos.line, pos.column, "warning", message)
        )

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.diagnostics, key=lambda d: (d.filename, d.line, d.column))
