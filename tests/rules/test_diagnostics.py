"""Every error and warning of RULES.md, with its exact FILE:LINE:COL and message."""

from __future__ import annotations

from datetime import date

import pytest

import rules
from tests.rules.helpers import HEADER, HEADER_LINES, rule

TODAY = date(2026, 11, 23)
L = HEADER_LINES  # the header's lines; a rule's `on` is on line L + 2, its next clause L + 4


def diagnostics(source: str, **kwargs) -> list[str]:
    return [str(d) for d in rules.check_program(source, filename="t.rules", today=TODAY,
                                                 **kwargs)]


def errors(source: str, **kwargs) -> list[str]:
    return [d for d in diagnostics(source, **kwargs) if ": error: " in d]


CASES = [
    ("syntax error with expected tokens", 'rule r "R"\n  on purchase\n  when 1 < 2 < 3\nend\n',
     "t.rules:3:14: error: unexpected '<', expected one of: "),
    ("unknown field", rule("  reads birthdy\n  award 1 point", purpose="offers"),
     f"t.rules:{L + 4}:9: error: unknown field 'birthdy'; did you mean 'birthday'?"),
    ("unknown attribute", rule("  when purchase.totl >= 5 EUR\n  award 1 point"),
     f"t.rules:{L + 4}:17: error: unknown attribute 'totl' of purchase; did you mean 'total'?"),
    ("unknown tier", rule("  when member.tier == gol\n  award 1 point"),
     f"t.rules:{L + 4}:23: error: unknown name 'gol'; did you mean 'gold'?"),
    ("unknown purpose", rule("  award 1 point", purpose="loyality"),
     f"t.rules:{L + 3}:11: error: unknown purpose 'loyality'; did you mean 'loyalty'?"),
    ("unknown function", rule("  when mnth(purchase.date) == 12\n  award 1 point"),
     f"t.rules:{L + 4}:8: error: unknown function 'mnth'; did you mean 'month'?"),
    ("unknown event", rule("  award 1 point", event="purchse"),
     f"t.rules:{L + 2}:6: error: unknown event 'purchse'; did you mean 'purchase'?"),
    ("duplicate at the later declaration",
     rule("  award 1 point") + 'rule r "again"\n  on purchase\n  purpose loyalty\n'
     '  award 2 points\nend\n',
     f"t.rules:{L + 6}:6: error: duplicate rule 'r' (first declared at t.rules:{L + 1}:6)"),
    ("money vs number", rule("  when purchase.total >= 50\n  award 1 point"),
     f"t.rules:{L + 4}:8: error: cannot compare money with a plain number"),
    ("date vs string", rule('  when purchase.date == "2026-12-01"\n  award 1 point'),
     f"t.rules:{L + 4}:8: error: cannot compare a date with a string"),
    ("arithmetic on text", rule('  when purchase.store + 1 == 2\n  award 1 point'),
     f"t.rules:{L + 4}:8: error: arithmetic on text"),
    ("non-boolean when", rule("  when purchase.total\n  award 1 point"),
     f"t.rules:{L + 4}:8: error: 'when' needs a condition (true or false), not money"),
    ("weekday only with == != in", rule("  when weekday(purchase.date) < FRI\n  award 1 point"),
     f"t.rules:{L + 4}:8: error: a weekday compares only with ==, != and in"),
    ("check 4: undeclared read",
     rule("  when month(member.birthday) == 12\n  award 1 point", purpose="offers"),
     f"t.rules:{L + 4}:14: error: rule 'r' uses member.birthday but does not list "
     "'birthday' under reads"),
    ("check 5: purpose limitation",
     rule("  reads birthday\n  when month(member.birthday) == 12\n  award 1 point"),
     f"t.rules:{L + 4}:9: error: rule 'r' reads field 'birthday' for purpose 'loyalty', but "
     "the field may only be used for offers (purpose limitation)"),
    ("check 6: member.consents",
     rule('  when "offers" in member.consents\n  award 1 point'),
     f"t.rules:{L + 4}:20: error: rule 'r' uses member.consents; bundling"),
    ("check 6: consent_given of another purpose",
     rule('  when consent_given.purpose == "offers"\n  award 1 point', event="consent_given"),
     f"t.rules:{L + 4}:33: error: rule 'r' of purpose 'loyalty' depends on consent to "
     "'offers'; bundling"),
    ("valid from after until", rule("  award 1 point\n  valid from 2026-12-31 until 2026-12-01"),
     f"t.rules:{L + 5}:3: error: valid from 2026-12-31 is after until 2026-12-01"),
    ("zero award", rule("  award 0 points"),
     f"t.rules:{L + 4}:9: error: an award must be more than zero points"),
    ("negative award", rule("  award -5 points"),
     f"t.rules:{L + 4}:9: error: an award must be more than zero points"),
    ("zero cap", rule("  award 5 points\n  cap 0 points per member per day"),
     f"t.rules:{L + 5}:3: error: a cap must be more than zero"),
    ("equal group priorities",
     rule("  award 1 point\n  group g priority 1") + 'rule s "S"\n  on purchase\n'
     '  purpose loyalty\n  award 2 points\n  group g priority 1\nend\n',
     f"t.rules:{L + 11}:9: error: rules 'r' and 's' in group 'g' have the same priority 1"),
    ("wrong currency", rule("  when purchase.total >= 50 USD\n  award 1 point"),
     f"t.rules:{L + 4}:26: error: currency USD is not the program's currency EUR"),
    ("field under no purpose", HEADER + 'field x: text "X"\nend\n',
     f"t.rules:{L + 1}:7: error: field 'x' is listed under no purpose"),
    ("reserved word as a name", rule("  award 1 point", name="when"),
     f"t.rules:{L + 1}:6: error: unexpected 'when', expected one of: a name"),
    ("reserved word as a loop variable",
     rule("  when any count in purchase.items where true\n  award 1 point"),
     f"t.rules:{L + 4}:12: error: unexpected 'count', expected one of: a name"),
    ("unknown reward when the catalogue is given", rule("  grant reward free_cofee"),
     f"t.rules:{L + 4}:16: error: unknown reward 'free_cofee'; did you mean 'free_coffee'?"),
]


@pytest.mark.parametrize("source, expected", [(s, e) for _, s, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_error(source, expected):
    found = errors(source, rewards={"free_coffee"})
    assert any(d.startswith(expected) for d in found), found


def test_rewards_are_only_checked_with_a_catalogue():
    assert errors(rule("  grant reward anything")) == []


def test_all_independent_errors_are_reported_at_once():
    source = rule("  when purchase.total >= 50 and mnth(purchase.date) == 1\n  award 0 points")
    found = errors(source)
    assert len(found) == 3, found


def test_diagnostics_are_sorted_by_file_order_and_carry_their_file():
    found = rules.check_program([("b.rules", HEADER), ("a.rules", 'field y: text "Y"\nend\n')],
                                today=TODAY)
    assert [d.filename for d in found if d.severity == "error"] == ["a.rules"]
    assert found[-1].filename == "a.rules"


def test_compile_error_carries_diagnostics():
    with pytest.raises(rules.CompileError) as caught:
        rules.compile_program(rule("  award 0 points"), filename="x.rules")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.filename, diagnostic.line, diagnostic.severity) == ("x.rules", L + 4,
                                                                          "error")
    assert str(diagnostic).startswith(f"x.rules:{L + 4}:9: error: ")


def test_syntax_error_lists_expected_tokens():
    (found,) = errors('rule r "R"\n  on purchase\n  when purchase.total >=\nend\n')
    assert found.startswith("t.rules:4:1: error: unexpected 'end', expected one of: ")
    assert "a number" in found and "'('" in found


def test_syntax_error_column_counts_characters():
    (found,) = errors('# Café é\nrule r "Café" on purchase ) end\n')
    assert found.startswith("t.rules:2:27: error: unexpected ')'")


WARNINGS = [
    ("field no rule reads", HEADER, "t.rules:13:7: warning: field 'birthday' is read by "
     "no rule"),
    ("consent-based purpose unused", HEADER.replace("purposes offers", "purposes loyalty"),
     "t.rules:9:9: warning: consent-based purpose 'offers' is used by no rule and no field"),
    ("validity window passed", rule("  award 1 point\n  valid from 2025-01-01 until 2025-12-31"),
     f"t.rules:{L + 5}:3: warning: rule 'r' can never fire: its validity ended on 2025-12-31"),
    ("constant false condition", rule("  when 1 > 2\n  award 1 point"),
     f"t.rules:{L + 4}:8: warning: rule 'r' can never fire: its condition is always false"),
    ("unknown DPV term",
     HEADER.replace("basis contract", "basis contract\n  dpv CustomerRelationshipManagment"),
     "t.rules:8:3: warning: unknown DPV purpose 'CustomerRelationshipManagment'; did you mean "
     "'CustomerRelationshipManagement'?"),
    ("unknown DPV category", HEADER.replace("purposes offers\nend\nfield drink",
                                            "purposes offers\n  category BirthDat\nend\nfield drink"),
     "warning: unknown DPV personal data category 'BirthDat'; did you mean 'BirthDate'?"),
]


@pytest.mark.parametrize("source, expected", [(s, e) for _, s, e in WARNINGS],
                         ids=[name for name, _, _ in WARNINGS])
def test_warning(source, expected):
    found = diagnostics(source)
    assert not [d for d in found if ": error: " in d], found
    assert any(expected in d for d in found), found


def test_warnings_do_not_stop_compiling():
    program = rules.compile_program(HEADER, today=TODAY)
    assert any("read by no rule" in w.message for w in program.warnings)
