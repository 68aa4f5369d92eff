"""Meaning at run time: awards, caps, limits, periods, budgets, groups, consent, history."""

from __future__ import annotations

from datetime import timedelta

import pytest

import rules
from tests.rules.helpers import item, purchase, rule


def compiled(body: str, **kwargs) -> rules.Program:
    return rules.compile_program(rule(body, **kwargs))


def points(program, event, history=None) -> dict[str, int]:
    return {e.rule: e.points for e in program.evaluate(event, history).effects}


@pytest.mark.parametrize("award, total, expected", [
    ("award 1 point per 1 EUR of purchase.total", "60.99", 60),
    ("award 3 points per 2 EUR of purchase.total", "5.00", 6),  # 3 × ⌊5 / 2⌋
    ("award 2 points per 0.50 EUR of purchase.total", "1.49", 4),
    ("award purchase.total / 10 EUR points", "59.90", 5),  # rounds down
    ("award 2.5 * 3 points", "1.00", 7),
    ("award 1 point per 1 EUR of purchase.total", "0.50", None),  # zero awards nothing
    ("award purchase.total / 10 EUR - 10 points", "50.00", None),  # negative: nothing
])
def test_award_forms(award, total, expected):
    result = points(compiled("  " + award), purchase(total))
    assert result.get("r") == expected


def test_zero_award_says_why_not():
    result = compiled("  award 1 point per 1 EUR of purchase.total").evaluate(purchase("0.50"))
    assert result.not_fired[0].why.startswith("award is 0 points")


def test_cap_cuts_the_award_to_what_remains():
    program = compiled("  award 1 point per 1 EUR of purchase.total\n"
                       "  cap 100 points per member per day")
    history = rules.MemoryHistory("Europe/Berlin")
    assert points(program, purchase("70.00"), history) == {"r": 70}
    second = program.evaluate(purchase("70.00", at="2026-12-05T18:00:00+01:00"), history)
    assert [(e.rule, e.points) for e in second.effects] == [("r", 30)]
    assert "cut to 30 points by cap 100" in second.effects[0].why
    third = program.evaluate(purchase("5.00", at="2026-12-05T19:00:00+01:00"), history)
    assert third.effects == []
    assert third.not_fired[0].why == "cap reached: 100 of 100 points per member per day"
    assert points(program, purchase("5.00", at="2026-12-06T09:00:00+01:00"), history) == {"r": 5}


def test_cap_without_history_only_cuts_one_award():
    program = compiled("  award 1 point per 1 EUR of purchase.total\n  cap 50 points per member")
    assert points(program, purchase("70.00")) == {"r": 50}


@pytest.mark.parametrize("period, first, second, fires", [
    ("week", "2026-12-06T20:00:00+01:00", "2026-12-07T08:00:00+01:00", True),  # Sun → Mon
    ("week", "2026-12-07T08:00:00+01:00", "2026-12-13T22:00:00+01:00", False),  # Mon → Sun
    ("day", "2026-12-05T23:30:00+01:00", "2026-12-05T23:10:00Z", True),  # Berlin midnight
    # 23:30 UTC on 31 December is already next year in Berlin
    ("year", "2026-12-31T12:00:00+01:00", "2026-12-31T23:30:00Z", True),
    ("year", "2026-12-31T12:00:00+01:00", "2026-12-31T22:30:00Z", False),
    ("month", "2026-11-30T23:30:00+01:00", "2026-12-01T00:10:00+01:00", True),
    (None, "2020-01-01T00:00:00+01:00", "2026-12-01T00:10:00+01:00", False),
])
def test_limits_count_calendar_periods_in_the_program_timezone(period, first, second, fires):
    per = f" per {period}" if period else ""
    program = compiled(f"  award 5 points\n  limit 1 per member{per}")
    history = rules.MemoryHistory("Europe/Berlin")
    assert points(program, purchase(at=first), history) == {"r": 5}
    result = program.evaluate(purchase(at=second, event_id="e2"), history)
    assert bool(result.effects) is fires
    if not fires:
        assert result.not_fired[0].why.startswith("limit reached")


def test_periods_do_not_depend_on_processing_order():
    program = compiled("  award 5 points\n  limit 1 per member per day")
    history = rules.MemoryHistory("Europe/Berlin")
    points(program, purchase(at="2026-12-06T10:00:00+01:00"), history)
    assert points(program, purchase(at="2026-12-05T10:00:00+01:00"), history) == {"r": 5}


def test_budget_counts_all_members_and_cuts_the_last_award():
    program = compiled("  award 40 points\n  budget 100 points")
    history = rules.MemoryHistory()
    awarded = [points(program, purchase(member_id=f"m{n}"), history).get("r") for n in range(4)]
    assert awarded == [40, 40, 20, None]
    last = program.evaluate(purchase(member_id="m9"), history)
    assert last.not_fired[0].why == "budget reached: 100 of 100 points"


def test_group_priority_keeps_only_the_highest_matching_rule():
    source = rule("  award 1 point\n  group boost priority 1", name="low") + (
        'rule high "H"\n  on purchase\n  purpose loyalty\n  when member.tier >= gold\n'
        '  award 2 points\n  group boost priority 2\nend\n')
    program = rules.compile_program(source)
    assert points(program, purchase(tier="gold")) == {"high": 2}
    assert points(program, purchase(tier="silver")) == {"low": 1}
    why = {n.rule: n.why for n in program.evaluate(purchase(tier="gold")).not_fired}
    assert why == {"low": "lost to higher priority rule 'high' in group 'boost'"}


def test_pending_is_a_timedelta_from_the_event_time():
    program = compiled("  award 1 point\n  pending 1 month")
    (effect,) = program.evaluate(purchase(at="2026-01-31T10:00:00+01:00")).effects
    assert effect.pending == timedelta(days=28)  # calendar month: to 28 February
    assert compiled("  award 1 point\n  pending 14 days").evaluate(
        purchase()).effects[0].pending == timedelta(days=14)


def test_consent_guard_for_consent_based_purposes():
    program = compiled("  award 5 points", purpose="offers")
    assert points(program, purchase(consents=("loyalty", "offers"))) == {"r": 5}
    result = program.evaluate(purchase(consents=("loyalty",)))
    assert result.effects == []
    assert result.not_fired[0].why == "no consent for purpose offers"


def test_a_condition_on_an_unshared_field_is_false():
    program = compiled("  reads birthday\n  when month(member.birthday) == 12\n  award 5 points",
                       purpose="offers")
    consenting = {"consents": ("offers",)}
    assert points(program, purchase(profile={"birthday": "1990-12-24"}, **consenting)) == {
        "r": 5}
    result = program.evaluate(purchase(profile={}, **consenting))
    assert result.not_fired[0].why == "not shared: birthday"


def test_a_rule_only_sees_the_fields_it_reads():
    program = compiled("  reads drink\n  when member.drink == \"tea\"\n  award 5 points",
                       purpose="offers")
    assert "p_birthday" not in program.generated_source


@pytest.mark.parametrize("condition, expected", [
    ("purchases(30 days) >= 2", True),  # two purchases in the window
    ("purchases(3 days) >= 1", False),  # the older purchases are outside
    ("spent(1 month) == 30 EUR", True),
    ("earned_points(365 days) == 7", True),
])
def test_history_functions_count_the_window_before_the_event(condition, expected):
    program = compiled(f"  when {condition}\n  award 1 point")
    history = rules.MemoryHistory("Europe/Berlin")
    history.load_member({"id": "m1", "history": {
        "purchases": [{"at": "2026-11-20T10:00:00+01:00", "total": "10.00"},
                      {"at": "2026-11-25T10:00:00+01:00", "total": "20.00"}],
        "earned": [{"at": "2026-06-01T10:00:00+02:00", "points": 7}]}})
    result = program.evaluate(purchase(at="2026-12-05T10:15:00+01:00"), history)
    assert bool(result.effects) is expected


def test_the_event_itself_is_not_in_its_history_window():
    program = compiled("  when purchases(1 day) >= 1\n  award 1 point")
    history = rules.MemoryHistory()
    assert points(program, purchase(), history) == {}
    assert points(program, purchase(at="2026-12-05T11:00:00+01:00"), history) == {"r": 1}


@pytest.mark.parametrize("condition, tier, expected", [
    ("member.tier >= silver", "gold", True),
    ("member.tier >= silver", "silver", True),
    ("member.tier >= silver", None, False),
    ("member.tier < gold", "silver", True),
    ("member.tier == gold", None, False),
    ("member.tier != gold", None, True),
])
def test_tiers_compare_in_declaration_order(condition, tier, expected):
    assert bool(points(compiled(f"  when {condition}\n  award 1 point"),
                       purchase(tier=tier))) is expected


@pytest.mark.parametrize("condition, at, expected", [
    ("weekday(purchase.date) == SAT", "2026-12-05T10:15:00+01:00", True),
    ("weekday(purchase.date) in [MON, TUE]", "2026-12-05T10:15:00+01:00", False),
    ("weekday(purchase.at) == SUN", "2026-12-05T23:30:00Z", True),  # Sunday in Berlin
    ("hour(purchase.at) == 0", "2026-12-05T23:30:00Z", True),
    ("purchase.date == 2026-12-06", "2026-12-05T23:30:00Z", True),
    ("day(purchase.date) == 5 and year(purchase.at) == 2026", "2026-12-05T10:00:00", True),
    ("hour(purchase.at) == 10", "2026-12-05T10:00:00", True),  # no offset: local time
    ("age(member.joined_at) == 1", "2026-12-05T10:00:00", True),
    ("days_since(member.joined_at) == 644", "2026-12-05T10:00:00", True),
    ("purchase.date - 1 week == 2026-11-28", "2026-12-05T10:00:00", True),
])
def test_time_functions_use_the_event_time(condition, at, expected):
    assert bool(points(compiled(f"  when {condition}\n  award 1 point"),
                       purchase(at=at))) is expected


@pytest.mark.parametrize("condition, expected", [
    ('any item in purchase.items where item.category == "cake"', True),
    ('all item in purchase.items where item.category in ["cake", "tea"]', True),
    ('all item in purchase.items where item.category == "cake"', False),
    ('(count item in purchase.items where item.category == "cake") == 2', True),
    ('(sum item.quantity for item in purchase.items where item.category == "cake") == 5',
     True),
    ("(sum item.price * item.quantity for item in purchase.items) == 9.50 EUR", True),
    ('(any item in purchase.items where item.price >= 1 EUR and item.quantity >= 4)', True),
    ('not any item in purchase.items where item.category == "bread"', True),
    ('purchase.total >= 1 EUR and any item in purchase.items where '
     'item.category == "bread" or item.category == "tea"', True),
])
def test_quantifiers(condition, expected):
    items = [item("cake", "1.50", 1), item("cake", "1.00", 4), item("tea", "4.00", 1)]
    program = compiled(f"  when {condition}\n  award 1 point")
    assert bool(points(program, purchase("9.50", items=items))) is expected


def test_validity_window_is_inclusive_in_local_days():
    program = compiled("  award 1 point\n  valid from 2026-12-01 until 2026-12-31")
    assert points(program, purchase(at="2026-12-31T23:59:00+01:00")) == {"r": 1}
    assert points(program, purchase(at="2026-11-30T23:30:00Z")) == {"r": 1}  # Dec 1 local
    result = program.evaluate(purchase(at="2026-12-31T23:30:00Z"))
    assert result.not_fired[0].why.startswith("outside validity window")


def test_money_is_exact():
    program = compiled("  when purchase.total == 0.30 EUR\n  award 1 point")
    assert points(program, purchase("0.30")) == {"r": 1}
    assert points(program, purchase(0.1 + 0.2)) == {}  # a float is not 0.30


def test_why_texts_quote_the_values_read():
    program = compiled("  when purchase.total >= 50 EUR and member.tier == gold\n"
                       "  award 5 points")
    (effect,) = program.evaluate(purchase("60.00", tier="gold")).effects
    assert effect.why == "purchase.total = 60.00 EUR >= 50 EUR; member.tier = gold"
    (missed,) = program.evaluate(purchase("30.00", tier="gold")).not_fired
    assert missed.why == "not: purchase.total = 30.00 EUR >= 50 EUR"


def test_effects_in_declaration_order_and_not_fired_lists_the_rest():
    source = rule("  award 1 point", name="a") + (
        'rule b "B"\n  on purchase\n  purpose loyalty\n  when purchase.total > 100 EUR\n'
        '  award 2 points\nend\nrule c "C"\n  on purchase\n  purpose loyalty\n'
        '  award 3 points\nend\nrule d "D"\n  on signup\n  purpose loyalty\n  award 4 points\nend\n')
    result = rules.compile_program(source).evaluate(purchase())
    assert [e.rule for e in result.effects] == ["a", "c"]
    assert [n.rule for n in result.not_fired] == ["b"]
    assert result.to_json("e1") == {
        "event": "e1",
        "effects": [{"rule": "a", "points": 1, "reward": None, "why": "every purchase"},
                    {"rule": "c", "points": 3, "reward": None, "why": "every purchase"}],
        "not_fired": [{"rule": "b", "why": "not: purchase.total = 10.00 EUR > 100 EUR"}]}


def test_naive_and_aware_datetimes_are_accepted():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    program = compiled("  when hour(purchase.at) == 10\n  award 1 point")
    assert points(program, purchase(at=datetime(2026, 12, 5, 10, 0))) == {"r": 1}
    aware = datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("UTC"))
    assert points(program, purchase(at=aware)) == {"r": 1}


def test_history_record_is_called_once_with_the_effects():
    calls = []

    class Spy(rules.MemoryHistory):
        def record(self, event, at, effects):
            calls.append((event["id"], at.isoformat(), [(e.rule, e.points) for e in effects]))

    compiled("  award 2 points").evaluate(purchase(), Spy())
    assert calls == [("e1", "2026-12-05T10:15:00+01:00", [("r", 2)])]
