"""The Python interface other parts of the engine code against, and the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rules
from loyalty.cli.rules_cmd import app
from tests.rules.helpers import HEADER, purchase

DATA = Path(__file__).parent / "data"
CAFE = (DATA / "cafe.rules").read_text()


@pytest.fixture(scope="module")
def cafe():
    return rules.compile_program(CAFE, filename="cafe.rules", today=date(2026, 11, 23))


CAFE_EVENTS = [
    # the sample event of RULES.md: gold, coffee, 60 EUR in December, birthday month
    (purchase("60.00", tier="gold", consents=("loyalty", "personalised_offers"),
              profile={"birthday": "1990-12-24"}),
     {"base_points": 60, "coffee_double": 120, "birthday_bonus": 100}),
    (purchase("60.00", tier="silver"), {"base_points": 60}),
    (purchase("60.00", tier="gold", at="2026-11-30T10:00:00+01:00"), {"base_points": 60}),
    (purchase("49.99", tier="gold"), {"base_points": 49}),
    (purchase("60.00", tier="gold", profile={"birthday": "1990-12-24"}),
     {"base_points": 60, "coffee_double": 120}),  # no consent: no birthday bonus
    ({"id": "p", "type": "profile_shared", "at": "2026-12-05T10:00:00+01:00",
      "member": {"id": "m1", "consents": ["personalised_offers"]},
      "profile_shared": {"field": "birthday"}}, {"tell_us_your_birthday": 50}),
    ({"id": "s", "type": "signup", "at": "2026-12-05T10:00:00+01:00",
      "member": {"id": "m1"}, "signup": {"channel": "web"}}, {}),
]


@pytest.mark.parametrize("event, expected", CAFE_EVENTS)
def test_cafe_example(cafe, event, expected):
    assert {e.rule: e.points for e in cafe.evaluate(event).effects} == expected


def test_cafe_compiles_with_only_the_expected_warnings(cafe):
    assert [w.message.split(":")[0] for w in cafe.warnings] == [
        "consent-based purpose 'newsletter' is used by no rule and no field",
        "field 'favourite_drink' is read by no rule"]


def test_program_exposes_plain_data(cafe):
    assert (cafe.currency, cafe.timezone) == ("EUR", "Europe/Berlin")
    assert (cafe.points_expiry.amount, cafe.points_expiry.unit) == (24, "months")
    assert (cafe.contact_limit.count, cafe.contact_limit.period) == (2, "week")
    newsletter = cafe.purposes[2]
    assert (newsletter.name, newsletter.basis, newsletter.channels, newsletter.dpv) == (
        "newsletter", "consent", ["email", "post"], "DirectMarketing")
    drink = cafe.fields[1]
    assert (drink.type, drink.options, drink.purposes) == (
        "choice", ["coffee", "tea", "cocoa"], ["personalised_offers"])
    assert [(t.name, t.condition) for t in cafe.tiers] == [
        ("silver", "earned_points(365 days) >= 1000"), ("gold", "earned_points(365 days) >= 5000")]
    coffee = cafe.rules[1]
    assert coffee.award == "2 points per 1 EUR of purchase.total"
    assert coffee.cap == (500, "day") and str(coffee.valid_from) == "2026-12-01"
    assert coffee.source.startswith('rule coffee_double "Double points')
    assert cafe.read_fields == {"birthday"}
    json.dumps(cafe.to_dict())  # plain JSON all the way down


def test_program_defaults_without_a_program_block():
    program = rules.compile_program('purpose p "P"\n  basis contract\nend\n')
    assert (program.currency, program.timezone, program.points_expiry) == ("EUR", "UTC", None)
    assert (program.contact_limit.count, program.contact_limit.period) == (1, "week")


def test_several_files_make_one_program():
    head, rules_part = CAFE.split("rule base_points", 1)
    program = rules.compile_program([("a.rules", head), ("b.rules", "rule base_points" +
                                                         rules_part)])
    assert [r.filename for r in program.rules][:1] == ["b.rules"]
    assert program.source[0][0] == "a.rules"


def test_compute_tier(cafe):
    history = rules.MemoryHistory("Europe/Berlin")
    assert cafe.compute_tier("m1", "2026-12-05T10:00:00+01:00", history) is None
    history.load_member({"id": "m1", "history": {"earned": [
        {"at": "2026-06-01T10:00:00+02:00", "points": 1500}]}})
    assert cafe.compute_tier("m1", "2026-12-05T10:00:00+01:00", history) == "silver"
    history.earned["m1"].append((history._at({"at": "2026-07-01T10:00:00+02:00"}), 4000))
    assert cafe.compute_tier("m1", "2026-12-05T10:00:00+01:00", history) == "gold"
    assert cafe.compute_tier("m1", "2027-07-02T10:00:00+02:00", history) is None


def test_audience_conditions(cafe):
    condition = cafe.compile_condition(
        "member.tier >= silver and month(member.birthday) == 12",
        purpose="personalised_offers")
    member = {"id": "m1", "tier": "gold", "profile": {"birthday": "1990-12-24"}}
    assert condition(member, "2026-12-01T10:00:00+01:00") is True
    assert condition({**member, "profile": {}}, "2026-12-01T10:00:00+01:00") is False
    assert condition({**member, "tier": None}, "2026-12-01T10:00:00+01:00") is False


@pytest.mark.parametrize("text, purpose, message", [
    ("month(member.birthday) == 12", "loyalty",
     "<audience>:1:7: error: field 'birthday' may not be used for purpose 'loyalty'"),
    ('"newsletter" in member.consents', "newsletter",
     "<audience>:1:17: error: an audience uses member.consents; bundling"),
    ("purchase.total > 5 EUR", "loyalty", "<audience>:1:1: error: event data"),
    ("member.tier >=", "loyalty", "<audience>:1:15: error: unexpected end of input"),
])
def test_audience_conditions_are_checked(cafe, text, purpose, message):
    with pytest.raises(rules.CompileError) as caught:
        cafe.compile_condition(text, purpose=purpose)
    assert str(caught.value.diagnostics[0]).startswith(message), caught.value.diagnostics


def test_simulate_counts_limits_and_history_across_events(cafe):
    events = [purchase("10.00", event_id=f"e{n}", consents=("personalised_offers",),
                       profile={"birthday": "1990-12-01"}) for n in range(2)]
    lines = list(rules.simulate(cafe, events))
    assert [[e["rule"] for e in line["effects"]] for line in lines] == [
        ["base_points", "birthday_bonus"], ["base_points"]]
    assert lines[1]["not_fired"][-1] == {
        "rule": "birthday_bonus", "why": "limit reached: fired 1 of 1 times per member per year"}


# ---- CLI


runner = CliRunner()


def test_cli_check_ok_and_error(tmp_path):
    result = runner.invoke(app, ["check", str(DATA / "cafe.rules")])
    assert result.exit_code == 0, result.output
    assert "warning: field 'favourite_drink' is read by no rule" in result.output
    bad = tmp_path / "bad.rules"
    bad.write_text('rule r "R"\n  on purchase\n  purpose nope\n  award 1 point\nend\n')
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3:11: error: unknown purpose 'nope'" in result.output


def test_cli_simulate(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e, _ in CAFE_EVENTS[:2]) + "\n")
    result = runner.invoke(app, ["simulate", str(DATA / "cafe.rules"), "--events", str(events)])
    assert result.exit_code == 0, result.output
    first = json.loads(result.output.splitlines()[0])
    assert list(first) == ["event", "effects", "not_fired"]
    assert [e["points"] for e in first["effects"]] == [60, 120, 100]


def test_cli_test_runs_the_cases_beside_the_rules(tmp_path):
    rules_file = tmp_path / "cafe.rules"
    rules_file.write_text(CAFE)
    event = CAFE_EVENTS[1][0]
    cases = [{"name": "silver gets base points", "events": [event],
              "expect": [{"effects": {"base_points": 60},
                          "not_fired": {"coffee_double": "member.tier"}}]},
             {"name": "wrong on purpose", "events": [event],
              "expect": [{"effects": {"base_points": 61}}]}]
    (tmp_path / "cafe.tests.json").write_text(json.dumps(cases))
    result = runner.invoke(app, ["test", str(rules_file)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "1 passed, 1 failed"
    assert "expected effects {'base_points': 61}, got {'base_points': 60}" in result.output
    (tmp_path / "cafe.tests.json").write_text(json.dumps(cases[:1]))
    result = runner.invoke(app, ["test", str(rules_file)])
    assert (result.exit_code, result.output.splitlines()[-1]) == (0, "1 passed, 0 failed")


def test_history_windows_are_the_windows_evaluation_reads():
    """A caller may fetch history_windows(at) before evaluating (the till does, in one
    statement): they must be exactly the windows the rules and tiers then ask for."""
    program = rules.compile_program(HEADER + """
rule regular "Regulars"
  on purchase
  purpose loyalty
  when purchases(30 days) >= 1 and spent(3 months) >= 1 EUR
  award 5 points
end
rule yearly "A good year"
  on purchase
  purpose loyalty
  when earned_points(1 years) >= 0
  award 1 point
end
""")
    assert program.history_figures == {
        ("purchases", 30, "days"), ("spent", 3, "months"), ("earned_points", 1, "years"),
        ("earned_points", 365, "days"),
    }

    asked: list[tuple[str, object, object]] = []

    class Recording(rules.MemoryHistory):
        def purchases(self, member_id, start, end):
            asked.append(("purchases", start, end))
            return 1

        def spent(self, member_id, start, end):
            asked.append(("spent", start, end))
            return super().spent(member_id, start, end) + 5

        def earned_points(self, member_id, start, end):
            asked.append(("earned_points", start, end))
            return 0

    at = "2026-03-29T12:00:00+02:00"  # the day summer time begins in Berlin
    history = Recording("Europe/Berlin")
    result = program.evaluate(purchase(at=at), history)
    program.compute_tier("m1", at, history)
    assert [e.rule for e in result.effects] == ["regular", "yearly"]
    assert set(asked) == set(program.history_windows(at))
