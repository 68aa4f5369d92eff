"""The Café Aroma demo program: rules files, and the rewards catalogue they grant from."""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent

# Read in this order: the declarations first, then the rules that use them.
DEMO_FILES = ("aroma.rules", "earning.rules", "personal.rules")

# The rewards the demo program grants, for the demo catalogue (cost in points).
DEMO_REWARDS: list[dict[str, object]] = [
    {"name": "free_coffee", "title": "A coffee of your choice", "cost": 250},
    {"name": "free_cake", "title": "A slice of cake of your choice", "cost": 400},
    {"name": "tote_bag", "title": "Café Aroma cotton tote bag", "cost": 1500, "stock": 200},
]


def demo_sources() -> list[tuple[str, str]]:
    """The demo program as (filename, text) pairs, ready for rules.compile_program."""
    return [(name, (DEMO_DIR / name).read_text(encoding="utf-8")) for name in DEMO_FILES]


def demo_reward_names() -> set[str]:
    """Names of the demo rewards, as the compiler's reward catalogue."""
    return {str(reward["name"]) for reward in DEMO_REWARDS}
