"""The compiled program's shortcuts give what the reference interpreter gives.

Event times: the local date and hour are kept per hour of event time (runtime.local_parts),
so times are drawn around the Berlin changes of offset, with offsets that are and are not
whole hours apart from Berlin's, naive and `Z` times, and in any order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules
from rules import runtime as rt
from tests.rules.helpers import HEADER, purchase

TIME_PROGRAM = HEADER + '''
rule hour_points "Hour"
  on purchase
  purpose loyalty
  award hour(purchase.at) + 1 points
end
rule day_points "Day"
  on purchase
  purpose loyalty
  award day(purchase.date) + 100 * month(purchase.at) points
end
rule sunday "Sunday"
  on purchase
  purpose loyalty
  when weekday(purchase.at) == SUN
  award 7 points
end
rule tea_time "Tea time"
  on purchase
  purpose loyalty
  when hour(purchase.at) >= 14 and hour(purchase.at) < 17
  award 3 points
  cap 5 points per member per day
end
rule window "Window"
  on purchase
  purpose loyalty
  award 2 points
  valid from 2026-03-29 until 2026-10-24
end
'''

time_program = rules.compile_program(TIME_PROGRAM)
# Lord Howe Island moves by half an hour, at 02:00 local time: at 15:30 UTC on 2026-10-03
# and at 15:00 UTC on 2026-04-04, inside an hour of UTC and of whole-hour offsets.
howe_program = rules.compile_program(TIME_PROGRAM.replace("Europe/Berlin",
                                                          "Australia/Lord_Howe"))

# Berlin moves from +01:00 to +02:00 at 2026-03-29 01:00 UTC and back at 2026-10-25 01:00 UTC.
CHANGES = {
    "Europe/Berlin": [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
                      datetime(2026, 12, 31, 23, tzinfo=UTC)],
    "Australia/Lord_Howe": [datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
                            datetime(2026, 4, 4, 15, tzinfo=UTC)],
}
OFFSETS = ["+01:00", "+02:00", "Z", "+00:00", "+05:30", "-03:00", "+01:30", "-09:45", "",
           "+0100", ".250000+01:00", "+10:30", "+11:00", "+10:00"]


@st.composite
def event_times(draw, program) -> str:
    moment = draw(st.sampled_from(CHANGES[program.timezone])) + timedelta(
        seconds=draw(st.integers(-4 * 3600, 4 * 3600)))
    suffix = draw(st.sampled_from(OFFSETS))
    if suffix == "":
        shown = moment.astimezone(program.tz)  # naive: the program's wall clock
    elif suffix == "Z":
        shown = moment
    else:
        offset = datetime.fromisoformat("2026-01-01T00:00:00" + suffix.lstrip(".0123456789"))
        shown = moment.astimezone(offset.tzinfo)
    return shown.replace(tzinfo=None).isoformat(timespec="seconds") + suffix


def _points(effects) -> list[tuple[str, int]]:
    """(rule, points) of a Result's effects, or of the effects rules.interpret returns."""
    return [(e.rule, e.points) for e in getattr(effects, "effects", effects)]


@pytest.mark.parametrize("program", [time_program, howe_program], ids=["berlin", "howe"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_local_date_and_hour_agree_with_the_reference(program, data):
    times = data.draw(st.lists(event_times(program), min_size=1, max_size=12))
    fast, slow = rules.MemoryHistory(program.timezone), rules.MemoryHistory(program.timezone)
    for n, at in enumerate(times + times[::-1]):  # the second round finds them kept
        event = purchase(at=at, event_id=f"e{n}")
        assert _points(program.evaluate(event)) == _points(rules.interpret(program, event)), at
        got = _points(program.evaluate(event, fast))
        assert got == _points(rules.interpret(program, event, slow)), at


def test_an_hour_is_kept_only_when_its_minutes_cannot_change_the_local_hour():
    cache: dict = {}
    berlin, howe = time_program.tz, howe_program.tz
    day = datetime(2026, 12, 5).date()
    rt.local_parts("2026-12-05T10:15:00+01:00", berlin, cache)  # its whole day at once
    assert cache["+01:00"] == {f"2026-12-05T{h:02d}": (day, h, None) for h in range(24)}
    rt.local_parts("2026-12-05T10:15:00.5+01:00", berlin, cache)
    assert len(cache[".5+01:00"]) == 24
    rt.local_parts("2026-12-05T23:15:00Z", berlin, cache)  # 00:15 in Berlin, the next day
    assert cache["Z"]["2026-12-05T23"] == (datetime(2026, 12, 6).date(), 0, None)
    assert cache["Z"]["2026-12-05T00"] == (day, 1, None)
    rt.local_parts("2026-12-05T10:15:00+05:30", berlin, cache)  # minutes move Berlin's hour
    assert not cache.get("+05:30")
    # Berlin changes offset on 2026-10-25 at 03:00 +02:00: not the whole day, but this hour
    rt.local_parts("2026-10-25T02:15:00+02:00", berlin, cache)
    assert cache["+02:00"] == {"2026-10-25T02": (datetime(2026, 10, 25).date(), 2, None)}
    rt.local_parts("2026-12-05T10:15", berlin, cache)  # no seconds: not the shape kept
    assert set(cache) == {"+01:00", ".5+01:00", "Z", "+02:00"}
    # Lord Howe Island moves to +11:00 at 02:00 +10:30, i.e. 02:30 +11:00: not that hour
    assert rt.local_parts("2026-10-04T02:45:00+11:00", howe, cache)[:2] == (
        datetime(2026, 10, 4).date(), 2)
    assert rt.local_parts("2026-10-04T02:05:00+11:00", howe, cache)[:2] == (
        datetime(2026, 10, 4).date(), 1)
    assert "2026-10-04T02" not in cache.get("+11:00", {})


@pytest.mark.parametrize("bad", ["2026-12-05T10:7x:00+01:00", "2026-12-05T10:75:00+01:00",
                                 "2026-12-05T10:15:60+01:00", "2026-12-05T24:15:00+01:00"])
def test_an_invalid_time_fails_even_when_its_hour_is_kept(bad):
    time_program.evaluate(purchase(at="2026-12-05T10:15:00+01:00"))
    with pytest.raises(ValueError):
        time_program.evaluate(purchase(at=bad))
    with pytest.raises(ValueError):
        rules.interpret(time_program, purchase(at=bad))


def test_the_event_datetime_is_made_when_read():
    result = time_program.evaluate(purchase(at="2026-12-05T10:15:00+01:00"))
    result = time_program.evaluate(purchase(at="2026-12-05T10:45:30+01:00"))
    assert result.ctx.local_time().isoformat() == "2026-12-05T10:45:30+01:00"
    assert [e.why for e in result.effects]


# ---- money: compiled programs count hundredths (runtime.to_units), the interpreter Decimals

MONEY_PROGRAM = HEADER + '''
rule per_total "Per"
  on purchase
  purpose loyalty
  award 3 points per 2.50 EUR of purchase.total
end
rule odd_literal "Odd literal"
  on purchase
  purpose loyalty
  when purchase.total >= 12.345 EUR
  award 1 point
end
rule listed "Listed"
  on purchase
  purpose loyalty
  when purchase.total in [10 EUR, 12.50 EUR, 0.005 EUR]
  award 2 points
end
rule ratio "Ratio"
  on purchase
  purpose loyalty
  award purchase.total / 3 EUR points
end
rule halves "Halves"
  on purchase
  purpose loyalty
  when purchase.total / 2 >= 5 EUR and -purchase.total < -1 EUR
  award 4 points
end
rule float_times "Float times money"
  on purchase
  purpose loyalty
  when purchase.total * (3 / 2) >= 15 EUR
  award 5 points
end
rule decimal_times "Decimal times money"
  on purchase
  purpose loyalty
  when 1.5 * purchase.total - 0.01 EUR >= 15 EUR
  award 5 points
end
rule bakery "Bakery"
  on purchase
  purpose loyalty
  award 1 point per 0.75 EUR of sum item.price * item.quantity for item in purchase.items
      where item.category in ["bread", "cake"]
end
rule basket "Basket"
  on purchase
  purpose loyalty
  when (sum item.price for item in purchase.items) > 20 EUR
    and (sum item.price * item.quantity for item in purchase.items where item.category == "tea")
        < 3.333 EUR
  award 6 points
end
rule regular "Regular"
  on purchase
  purpose loyalty
  when spent(30 days) >= 25.5 EUR
  award 9 points
end
rule repeated_keys "A key listed twice counts once"
  on purchase
  purpose loyalty
  when (count item in purchase.items where item.category in ["bread", "bread", "cake"]) >= 2
    and (sum item.quantity for item in purchase.items where item.category in ["tea", "tea"]) >= 1
  award 1 point
end
rule favourite "Favourite drink bought for 5 EUR"
  on purchase
  purpose offers
  reads drink
  when (sum item.price * item.quantity for item in purchase.items
        where item.category == member.drink) >= 5 EUR
    and (count item in purchase.items where item.category == member.drink) < 3
  award 2 points
end
rule refund "Refund"
  on return
  purpose loyalty
  award 1 point per 1 EUR of return.total
end
'''
# 16 rules or more, mostly guarded: the rule index, and sums asked per rule (keyed_sum)
INDEXED_PROGRAM = HEADER + "".join(f'''
rule r{n} "R{n}"
  on purchase
  purpose loyalty
  when purchase.store == "s{n % 4}"
  award {n % 3 + 1} points per {n % 5 + 1}.{n % 7}5 EUR of sum item.price * item.quantity
      for item in purchase.items where item.category in ["bread", "cake"]
end
''' for n in range(20))

money_programs = [rules.compile_program(MONEY_PROGRAM), rules.compile_program(INDEXED_PROGRAM)]

amounts = st.one_of(
    st.decimals(min_value=-50, max_value=200, places=2).map(str),
    st.decimals(min_value=0, max_value=200, places=3).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e25", "123456789012345678901234.5", "0.001", "-0", "12,50", "", "x"]),
    st.integers(-100, 10**20), st.floats(0, 100, allow_nan=False), st.none(), st.booleans(),
    st.sampled_from([[1], {"EUR": 1}, Decimal("12.5"), Decimal("-Infinity"), "sNaN"]),
)
quantities = st.one_of(st.integers(0, 6), st.sampled_from([Decimal("1.5"), 2.5, "2", None]))
money_items = st.lists(st.fixed_dictionaries({
    "sku": st.just("x"),
    "category": st.sampled_from(["bread", "cake", "tea", "coffee", "merch"]),
    "price": amounts, "quantity": quantities}), max_size=4)


@st.composite
def money_events(draw):
    kind = draw(st.sampled_from(["purchase", "purchase", "return"]))
    event = purchase(at=f"2026-12-{draw(st.integers(1, 28)):02d}T10:15:00+01:00",
                     event_id=f"e{draw(st.integers(0, 99))}", consents=("loyalty", "offers"),
                     profile=draw(st.sampled_from([{}, {"drink": "tea"}, {"drink": "coffee"}])))
    if kind == "return":
        event["type"] = "return"
        event["return"] = {"total": draw(amounts)}
        del event["purchase"]
    else:
        event["purchase"] = {"total": draw(amounts), "store": draw(st.sampled_from(
            ["s0", "s1", "s2", "s3"])), "items": draw(money_items)}
    return event


def _outcome(evaluate):
    """(rule, points) of what fires, or the kind of error evaluation raises."""
    try:
        return _points(evaluate())
    except Exception as error:  # noqa: BLE001 - both must fail alike
        return type(error).__name__


@pytest.mark.parametrize("program", money_programs, ids=["arithmetic", "indexed"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_money_in_hundredths_agrees_with_decimal_money(program, data):
    stream = data.draw(st.lists(money_events(), min_size=1, max_size=6))
    fast, slow = rules.MemoryHistory("Europe/Berlin"), rules.MemoryHistory("Europe/Berlin")
    for event in stream:
        assert _outcome(lambda e=event: program.evaluate(e)) == _outcome(
            lambda e=event: rules.interpret(program, e)), event
        assert _outcome(lambda e=event: program.evaluate(e, fast)) == _outcome(
            lambda e=event: rules.interpret(program, e, slow)), event


def test_amounts_in_hundredths():
    assert [rt.units(v) for v in ("12.50", "-3.2", 5, 2.5, "x", None, True)] == [
        1250, -320, 500, 250, None, None, None]
    assert rt.units("1.005") == Decimal("100.5")  # not a whole number of hundredths
    assert rt.units("1e30") == Decimal("1e32") and type(rt.units("1e30")) is Decimal
    assert str(rt.units("NaN")) == "NaN"
    # money / number and money / money give Decimals, as with Decimal money; never a float
    assert rt.divide_units(1000, 3) == Decimal(10) / 3 * 100
    assert rt.divide_units(1000, 300) == Decimal(10) / 3
    assert rt.divide_units(1000, 0) == 0
    with pytest.raises(TypeError):
        rt.multiply_units(1000, 1.5)
