"""The café example of RULES.md compiles and gives the expected effects."""

from pathlib import Path

import rules

CAFE = (Path(__file__).parent / "data" / "cafe.rules").read_text()


def test_cafe_compiles_without_errors():
    program = rules.compile_program(CAFE, filename="cafe.rules")
    assert [r.name for r in program.rules][:2] == ["base_points", "coffee_double"]
