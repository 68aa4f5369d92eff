"""The compiled program's shortcuts give what the reference interpreter gives.

Event times: the local date and hour are kept per hour of event time (runtime.local_parts),
so times are drawn around the Berlin changes of offset, with offsets that are and are not
whole hours apart from Berlin's, naive and `Z` times, and in any order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    rt.local_parts("2026-12-05T10:15:00+01:00", berlin, cache)
    rt.local_parts("2026-12-05T10:15:00+05:30", berlin, cache)  # minutes move Berlin's hour
    rt.local_parts("2026-10-25T02:15:00+02:00", berlin, cache)  # Berlin's change is at 03:00
    rt.local_parts("2026-12-05T10:15:00.5+01:00", berlin, cache)
    rt.local_parts("2026-12-05T10:15", berlin, cache)  # no seconds: not the shape kept
    # Lord Howe Island moves to +11:00 at 02:00 +10:30, i.e. 02:30 +11:00
    assert rt.local_parts("2026-10-04T02:45:00+11:00", howe, cache)[:2] == (
        datetime(2026, 10, 4).date(), 2)
    assert rt.local_parts("2026-10-04T02:05:00+11:00", howe, cache)[:2] == (
        datetime(2026, 10, 4).date(), 1)
    assert cache == {
        "2026-12-05T10+01:00": (datetime(2026, 12, 5).date(), 10, None),
        "2026-10-25T02+02:00": (datetime(2026, 10, 25).date(), 2, None),
        "2026-12-05T10.5+01:00": (datetime(2026, 12, 5).date(), 10, None),
    }


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
