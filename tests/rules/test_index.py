"""The rule index (rules/index.py): a program evaluated through it gives exactly what testing
every rule gives: the same effects, and the same why / why-not for every other rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
import rules.compiler
from tests.rules.helpers import HEADER

STORES = ["a", "b", "c"]
CATEGORIES = ["cake", "tea", "coffee", "bread", "merch"]
SKUS = ["s1", "s2", "s3", "s4"]

GUARDED = [
    ('purchase.store == "a"', ""),
    ('purchase.store in ["b", "c"]', ""),
    ('purchase.store == "a" and purchase.store in ["a", "b"]', ""),
    ('any item in purchase.items where item.category == "cake"', ""),
    ('any item in purchase.items where item.sku in ["s1", "s2"]', ""),
    ('(any item in purchase.items where item.category == "tea" and item.quantity >= 2)', ""),
    ('(count item in purchase.items where item.category == "cake") >= 2', ""),
    ('(sum item.quantity for item in purchase.items where item.category == "tea") > 2', ""),
    ('(count item in purchase.items where item.category == "merch") < 1', ""),
    ("member.tier == gold", ""),
    ("member.tier >= silver and purchase.total >= 20 EUR", ""),
    ("weekday(purchase.date) == SAT", ""),
    ("weekday(purchase.date) in [MON, TUE] and hour(purchase.at) >= 10", ""),
    ("hour(purchase.at) >= 9 and hour(purchase.at) < 12", ""),
    ("12 > hour(purchase.at)", ""),
    ("month(purchase.date) == 12 and day(purchase.date) <= 10", ""),
    ('purchase.store == "b" or member.tier == gold', ""),
    ('purchase.total >= 10 EUR', "  valid from 2026-12-05 until 2026-12-12\n"),
    ('purchase.store == "c"', "  valid from 2026-12-20\n"),
    ('any item in purchase.items where item.category == member.drink',
     "  reads drink\n"),
    ('any item in purchase.items where item.category == "coffee"', "  limit 1 per member per day\n"),
    ('member.tier == silver', "  cap 30 points per member per week\n"),
    ('any item in purchase.items where item.category == "bread"', "  budget 40 points\n"),
    ('purchase.store == "a"', "  group g priority 1\n"),
    ('any item in purchase.items where item.category == "cake"', "  group g priority 2\n"),
    ("weekday(purchase.date) != SUN", ""),
]


def _program() -> str:
    parts = [HEADER]
    for n, (when, extra) in enumerate(GUARDED):
        purpose = "offers" if "member.drink" in when else "loyalty"
        award = ("award 1 point per 2 EUR of purchase.total" if n % 3 == 0 else
                 "award 1 point per 1 EUR of sum item.price * item.quantity for item in "
                 'purchase.items where item.category in ["bread", "cake"]' if n % 3 == 1
                 else f"award {5 + n} points")
        parts.append(f'rule r{n} "Rule {n}"\n  on purchase\n  purpose {purpose}\n{extra}'
                     f"  when {when}\n  {award}\nend\n")
    parts.append('rule always "Always"\n  on purchase\n  purpose loyalty\n'
                 '  award 1 point per 1 EUR of purchase.total\nend\n')
    return "".join(parts)


SOURCE = _program()
indexed = rules.compile_program(SOURCE)


def _unindexed():
    saved = rules.compiler.INDEX_MIN_RULES
    rules.compiler.INDEX_MIN_RULES = 10**9
    try:
        return rules.compile_program(SOURCE)
    finally:
        rules.compiler.INDEX_MIN_RULES = saved


plain = _unindexed()


def test_the_big_program_is_indexed_and_the_other_is_not():
    assert "while cand:" in indexed.generated_source
    assert "while cand:" not in plain.generated_source


items = st.lists(st.fixed_dictionaries({
    "sku": st.sampled_from(SKUS), "category": st.sampled_from(CATEGORIES),
    "price": st.decimals(min_value=Decimal("0.10"), max_value=Decimal("30"),
                         places=2).map(str),
    "quantity": st.integers(min_value=1, max_value=3)}), max_size=5)


@st.composite
def events(draw):
    day = draw(st.integers(min_value=1, max_value=31))
    hour = draw(st.integers(min_value=0, max_value=23))
    basket = draw(items)
    total = sum((Decimal(i["price"]) * i["quantity"] for i in basket), Decimal(0))
    purchase = {"total": str(total), "items": basket}
    store = draw(st.sampled_from([*STORES, None, "missing", ["a"]]))
    if store != "missing":
        purchase["store"] = store
    if draw(st.integers(0, 9)) == 0:
        purchase["items"] = [*basket, draw(st.sampled_from(["x", 3, {"category": ["cake"]}]))]
    profile = {"drink": draw(st.sampled_from(["coffee", "tea"]))} if draw(st.booleans()) else {}
    consents = ["loyalty"] + (["offers"] if draw(st.booleans()) else [])
    return {"id": "e", "type": "purchase", "at": f"2026-12-{day:02d}T{hour:02d}:30:00+01:00",
            "member": {"id": draw(st.sampled_from(["m1", "m2"])),
                       "tier": draw(st.sampled_from([None, "silver", "gold", "bronze"])),
                       "points": 0, "joined_at": "2025-01-01", "consents": consents,
                       "profile": profile},
            "purchase": purchase}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=1, max_size=6))
def test_indexed_equals_testing_every_rule_with_why_and_why_not(stream):
    fast, slow = rules.MemoryHistory("Europe/Berlin"), rules.MemoryHistory("Europe/Berlin")
    reference = rules.MemoryHistory("Europe/Berlin")
    # (On malformed items, e.g. a string among the objects, the compiled grouped
    # quantifiers fail where the reference's `any` may stop early: compare well-formed.)
    well_formed = all(isinstance(i, dict) and isinstance(i.get("category"), str)
                      for e in stream for i in e["purchase"]["items"])
    for event in stream:
        got = indexed.evaluate(event, fast).to_json("e")
        want = plain.evaluate(event, slow).to_json("e")
        assert got == want, event
        effects = [(e.rule, e.points, e.reward) for e in rules.interpret(indexed, event,
                                                                          reference)]
        if well_formed:
            assert [(e["rule"], e["points"], e["reward"]) for e in got["effects"]] == effects
        assert sorted([e["rule"] for e in got["effects"]] + [n["rule"] for n in got["not_fired"]]
                      ) == sorted(r.name for r in indexed.rules)


@pytest.mark.parametrize("store, tier, why", [
    ("b", "gold", 'not: purchase.store = "b" == "a"'),
    ("a", "silver", None),
])
def test_a_rule_skipped_by_the_index_says_which_guard_failed(store, tier, why):
    event = {"id": "e", "type": "purchase", "at": "2026-12-02T10:00:00+01:00",
             "member": {"id": "m1", "tier": tier, "consents": ["loyalty"]},
             "purchase": {"total": "5.00", "store": store, "items": []}}
    result = indexed.evaluate(event)
    not_fired = {n.rule: n.why for n in result.not_fired}
    if why is None:
        assert "r0" in [e.rule for e in result.effects]
    else:
        assert not_fired["r0"] == why
    assert not_fired["r9"] == "not: member.tier = " + tier + " == gold" \
        if tier != "gold" else "r9" not in not_fired
    assert not_fired["r17"].startswith("outside validity window")
    assert not_fired["r3"] == ('not: any item in purchase.items where item.category == "cake"'
                               " (0 of 0 match)")


def test_an_item_price_inside_a_nested_quantifier_list_compiles_and_evaluates():
    # prices are parsed inline with `:=`, which Python forbids in a comprehension's iterable
    program = rules.compile_program(HEADER + '''
rule w "W"
  on purchase
  purpose loyalty
  when any item in purchase.items where (any p in [item.price, 5 EUR] where p > 3 EUR)
  award 1 point per 1 EUR of sum item.price * item.quantity for item in purchase.items
end
''')
    event = {"id": "e", "type": "purchase", "at": "2026-12-01T10:00:00Z",
             "member": {"id": "m1"},
             "purchase": {"total": "8.00", "items": [{"price": "4.00", "quantity": 2}]}}
    assert [(e.rule, e.points) for e in program.evaluate(event).effects] == [("w", 8)]
    assert [(e.rule, e.points) for e in rules.interpret(program, event)] == [("w", 8)]
