"""The Café Aroma demo program: it compiles cleanly, its own test cases pass, and it pays
what a marketer reading it would expect."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

import rules
from rules.demo import DEMO_DIR, DEMO_REWARDS, demo_reward_names, demo_sources

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def program():
    try:
        return rules.compile_program(demo_sources(), rewards=demo_reward_names(), today=TODAY)
    except rules.CompileError as error:  # show every diagnostic, not just the first
        pytest.fail("\n".join(str(d) for d in error.diagnostics))


def member(tier=None, consents=("loyalty",), profile=None, member_id="m1", **extra):
    return {"id": member_id, "tier": tier, "points": 0, "joined_at": "2025-03-01",
            "consents": list(consents), "profile": profile or {}, **extra}


def purchase(at, items, *, who=None, store="berlin-kreuzberg", event_id="e1"):
    """A purchase event; `items` are (sku, category, price, quantity)."""
    total = sum(float(price) * quantity for _, _, price, quantity in items)
    return {"id": event_id, "type": "purchase", "at": at, "member": who or member(),
            "purchase": {"total": f"{total:.2f}", "store": store,
                         "items": [{"sku": s, "category": c, "price": p, "quantity": q}
                                   for s, c, p, q in items]}}


def paid(result) -> dict[str, tuple[int, str | None]]:
    return {effect.rule: (effect.points, effect.reward) for effect in result.effects}


def test_demo_compiles_without_any_diagnostic(program):
    assert [str(w) for w in program.warnings] == []


def test_every_reward_the_program_grants_is_in_the_demo_catalogue():
    granted = {line.split()[-1] for _, text in demo_sources()
               for line in text.splitlines() if line.strip().startswith("grant reward")}
    assert granted == demo_reward_names() == {"free_coffee", "free_cake", "tote_bag"}
    assert all(reward["cost"] > 0 for reward in DEMO_REWARDS)


def test_demo_test_cases_pass():
    rules_files = [DEMO_DIR / name for name, _ in demo_sources()]
    passed, failed, messages = rules.run_tests(rules_files)
    assert (failed, messages) == (0, [])
    assert passed >= 30  # the cases in earning.tests.json and personal.tests.json


def test_every_rule_is_tested_firing_and_not_firing():
    fired, not_fired = set(), set()
    for path in DEMO_DIR.glob("*.tests.json"):
        for case in json.loads(path.read_text(encoding="utf-8")):
            for expected in case["expect"]:
                fired |= set(expected["effects"])
                not_fired |= set(expected.get("not_fired") or ())
    declared = {line.split()[1] for _, text in demo_sources()
                for line in text.splitlines() if line.startswith("rule ")}
    assert declared - fired == set()
    assert declared - not_fired == set()


def test_gold_member_early_coffee_on_a_weekday(program):
    event = purchase("2026-12-08T08:30:00+01:00",  # a Tuesday
                     [("latte", "coffee", "3.80", 1), ("sourdough", "bread", "5.10", 1),
                      ("cake-box", "cake", "51.10", 1)], who=member("gold"))
    result = program.evaluate(event)
    assert paid(result) == {"base_points": (60, None), "gold_boost": (30, None),
                            "morning_coffee": (10, None)}
    # Points for the basket wait out the 14-day return window; bonuses are available at once.
    pending = {effect.rule: effect.pending for effect in result.effects}
    assert pending["base_points"] == timedelta(days=14)
    assert not pending["morning_coffee"]
    not_fired = {n.rule for n in result.not_fired}
    assert {"silver_boost", "platinum_boost", "catering_order"} <= not_fired
    assert all(n.why for n in result.not_fired)
    assert all(effect.why for effect in result.effects)


def test_only_the_highest_tier_boost_applies(program):
    event = purchase("2026-12-09T12:00:00+01:00", [("mug", "merch", "40.00", 1)],
                     who=member("platinum"))
    assert paid(program.evaluate(event)) == {"base_points": (40, None),
                                             "platinum_boost": (40, None)}


def test_members_without_tier_get_base_points_only(program):
    event = purchase("2026-12-09T12:00:00+01:00", [("mug", "merch", "12.00", 1)])
    assert paid(program.evaluate(event)) == {"base_points": (12, None)}


def test_birthday_treat_needs_the_personal_offers_consent(program):
    at = "2026-12-10T11:00:00+01:00"
    items = [("espresso", "coffee", "2.20", 1)]
    without = member(profile={"birthday": "1990-12-24"})
    assert "birthday_treat" not in paid(program.evaluate(purchase(at, items, who=without)))
    opted_in = member(consents=("loyalty", "personalised_offers"),
                      profile={"birthday": "1990-12-24"})
    assert paid(program.evaluate(purchase(at, items, who=opted_in)))["birthday_treat"] == (
        100, "free_cake")


def test_birthday_treat_once_a_year(program):
    history = rules.MemoryHistory(program.tz)
    who = member(consents=("loyalty", "personalised_offers"), profile={"birthday": "1990-12-24"})
    items = [("espresso", "coffee", "2.20", 1)]
    first = program.evaluate(purchase("2026-12-01T10:00:00+01:00", items, who=who), history)
    again = program.evaluate(purchase("2026-12-20T10:00:00+01:00", items, who=who,
                                      event_id="e2"), history)
    assert "birthday_treat" in paid(first)
    assert "birthday_treat" not in paid(again)


def test_consent_bonus_only_for_the_purpose_consented_to(program):
    event = {"id": "c1", "type": "consent_given", "at": "2026-12-01T09:00:00+01:00",
             "member": member(consents=("loyalty", "personalised_offers", "newsletter",
                                        "push_notifications", "analytics")),
             "consent_given": {"purpose": "newsletter", "channel": "email"}}
    assert paid(program.evaluate(event)) == {"newsletter_welcome": (25, None)}


def test_cake_hour_is_capped_at_100_points_a_day(program):
    event = purchase("2026-12-12T15:30:00+01:00", [("cake-box", "cake", "30.00", 2)])
    assert paid(program.evaluate(event))["cake_hour"] == (100, None)


def test_signup_in_the_app_brings_a_welcome_coffee(program):
    event = {"id": "s1", "type": "signup", "at": "2026-12-01T09:00:00+01:00",
             "member": member(), "signup": {"channel": "app"}}
    assert paid(program.evaluate(event)) == {"welcome_bonus": (100, None),
                                             "welcome_coffee": (0, "free_coffee")}


def test_tenth_visit_in_a_month_earns_a_free_coffee(program):
    history = rules.MemoryHistory(program.tz)
    visits = [program.evaluate(purchase(f"2026-12-{day:02d}T09:30:00+01:00",
                                        [("espresso", "coffee", "2.20", 1)],
                                        event_id=f"v{day}"), history)
              for day in range(1, 11)]
    assert ["tenth_visit" in paid(visit) for visit in visits] == [False] * 9 + [True]
    assert paid(visits[-1])["tenth_visit"] == (0, "free_coffee")


def test_advent_stollen_stops_when_its_budget_is_spent(program):
    history = rules.MemoryHistory(program.tz)
    stollen = [("stollen-750", "stollen", "14.90", 10)]  # 400 points each
    awarded = []
    for n in range(51):
        event = purchase("2026-12-05T10:00:00+01:00", stollen, event_id=f"x{n}",
                         who=member(member_id=f"m{n}"))
        awarded.append(paid(program.evaluate(event, history)).get("advent_stollen"))
    assert sum(points for points, _ in filter(None, awarded)) == 20000
    assert awarded[-1] is None
    last = program.evaluate(purchase("2026-12-06T10:00:00+01:00", stollen, event_id="x99",
                                     who=member(member_id="late")), history)
    why_not = {n.rule: n.why for n in last.not_fired}
    assert "budget" in why_not["advent_stollen"]


def test_advent_stollen_only_in_advent(program):
    event = purchase("2026-12-27T10:00:00+01:00", [("stollen-750", "stollen", "14.90", 1)])
    assert "advent_stollen" not in paid(program.evaluate(event))
