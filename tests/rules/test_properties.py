"""The compiled program agrees with the tree-walking reference (rules.interpret)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
from tests.rules.helpers import HEADER

PROGRAM = HEADER + '''
rule base "Base"
  on purchase
  purpose loyalty
  award 1 point per 1 EUR of purchase.total
  cap 120 points per member per day
end
rule big "Big"
  on purchase
  purpose loyalty
  when purchase.total >= 30 EUR and member.tier >= silver
  award 2 points per 5 EUR of purchase.total
  group boost priority 1
end
rule bigger "Bigger"
  on purchase
  purpose loyalty
  when member.tier == gold and (count item in purchase.items where item.category == "cake") >= 2
  award 10 points
  group boost priority 2
end
rule cakes "Cakes"
  on purchase
  purpose loyalty
  when any item in purchase.items where item.category in ["cake", "tea"]
  award 3 * (sum item.quantity for item in purchase.items where item.category == "cake") points
  limit 2 per member per week
end
rule bakery "Bakery money"
  on purchase
  purpose loyalty
  when all item in purchase.items where item.category != "merch"
  award 1 point per 2 EUR of sum item.price * item.quantity for item in purchase.items
      where item.category in ["bread", "cake"]
  budget 200 points
end
rule weekend "Weekend"
  on purchase
  purpose loyalty
  when weekday(purchase.date) in [SAT, SUN] and hour(purchase.at) >= 9 or purchase.total > 80 EUR
  award 7 points
  valid from 2026-12-01 until 2026-12-20
end
rule regular "Regular"
  on purchase
  purpose loyalty
  when purchases(7 days) >= 2 and spent(1 month) >= 20 EUR
  award 15 points
end
rule birthday "Birthday"
  on purchase
  purpose offers
  reads birthday, drink
  when month(member.birthday) == month(purchase.date)
    or any item in purchase.items where item.category == member.drink
  award 50 points
  limit 1 per member per year
end
'''

program = rules.compile_program(PROGRAM)

categories = st.sampled_from(["cake", "tea", "coffee", "bread", "merch"])
prices = st.decimals(min_value=Decimal("0.10"), max_value=Decimal("40"), places=2)
items = st.lists(st.fixed_dictionaries({
    "sku": st.just("x"), "category": categories, "price": prices.map(str),
    "quantity": st.integers(min_value=1, max_value=4)}), max_size=5)


@st.composite
def events(draw):
    day = draw(st.integers(min_value=1, max_value=31))
    hour = draw(st.integers(min_value=0, max_value=23))
    basket = draw(items)
    total = sum((Decimal(i["price"]) * i["quantity"] for i in basket), Decimal(0))
    profile = {}
    if draw(st.booleans()):
        profile["birthday"] = f"19{draw(st.integers(10, 99))}-{draw(st.integers(1, 12)):02d}-15"
    if draw(st.booleans()):
        profile["drink"] = draw(st.sampled_from(["coffee", "tea"]))
    consents = ["loyalty"] + (["offers"] if draw(st.booleans()) else [])
    return {"id": "e", "type": "purchase", "at": f"2026-12-{day:02d}T{hour:02d}:30:00Z",
            "member": {"id": draw(st.sampled_from(["m1", "m2"])),
                       "tier": draw(st.sampled_from([None, "silver", "gold"])),
                       "points": 0, "joined_at": "2025-01-01", "consents": consents,
                       "profile": profile},
            "purchase": {"total": str(total), "store": "s", "items": basket}}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=1, max_size=8))
def test_compiled_agrees_with_the_reference_interpreter(stream):
    fast, slow = rules.MemoryHistory("Europe/Berlin"), rules.MemoryHistory("Europe/Berlin")
    for event in stream:
        got = [(e.rule, e.points, e.reward) for e in program.evaluate(event, fast).effects]
        want = [(e.rule, e.points, e.reward) for e in rules.interpret(program, event, slow)]
        assert got == want, event


@settings(max_examples=40, deadline=None)
@given(events())
def test_every_rule_either_fires_or_says_why_not(event):
    result = program.evaluate(event)
    fired = [e.rule for e in result.effects]
    missed = [n.rule for n in result.not_fired]
    assert sorted(fired + missed) == sorted(r.name for r in program.rules)
    assert all(n.why and n.why != "did not fire" for n in result.not_fired), result.not_fired
    assert all(e.why for e in result.effects)
