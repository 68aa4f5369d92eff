"""The loyalty rules language: parse, check, compile, evaluate and explain programs.

Pure Python; knows nothing of the web or the database (see rules/README.md).
"""

from .api import check_program, compile_program
from .audience import Condition
from .diagnostics import CompileError, Diagnostic
from .interpret import interpret
from .memory import MemoryHistory
from .parser import KEYWORDS
from .program import (
    ContactLimit,
    Expiry,
    FieldInfo,
    Program,
    PurposeInfo,
    RuleInfo,
    TierInfo,
)
from .runtime import Effect, History, NotFired, Result
from .simulate import simulate
from .testing import run_tests

__all__ = [
    "KEYWORDS",
    "CompileError",
    "Condition",
    "ContactLimit",
    "Diagnostic",
    "Effect",
    "Expiry",
    "FieldInfo",
    "History",
    "MemoryHistory",
    "NotFired",
    "Program",
    "PurposeInfo",
    "Result",
    "RuleInfo",
    "TierInfo",
    "check_program",
    "compile_program",
    "interpret",
    "run_tests",
    "simulate",
]
