"""What compiled programs need at run time: values, periods, the history interface, results."""

from __future__ import annotations

import calendar
import math
from datetime import date, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import TYPE_CHECKING, Any, Protocol, overload
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .program import Program, RuleInfo

WEEKDAY_CODES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
ZERO = Decimal(0)


class History(Protocol):
    """The member's past, as the engine's ledger or the simulator knows it.

    Windows are half-open [start, end) of aware datetimes; start=None means since ever.
    """

    def rule_usage(
        self, member_id: str, rule: str, start: datetime | None, end: datetime | None
    ) -> tuple[int, int]: ...  # (times fired, points awarded)

    def budget_used(self, rule: str) -> int: ...  # points awarded by the rule, all members

    def purchases(self, member_id: str, start: datetime, end: datetime) -> int: ...

    def spent(self, member_id: str, start: datetime, end: datetime) -> Decimal: ...

    def earned_points(self, member_id: str, start: datetime, end: datetime) -> int: ...

    def record(self, event: dict, at: datetime, effects: list[Effect]) -> None: ...


# ---- values -------------------------------------------------------------------------------


def money(value: Any) -> Decimal | None:
    """Money from an event: a string, Decimal or int (a float goes through its repr)."""
    kind = type(value)
    if kind is str or kind is int:
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    if kind is Decimal or value is None:
        return value
    if isinstance(value, bool):
        return None
    try:
        return Decimal(repr(value))
    except ArithmeticError:
        return None


MONEY_CACHE: dict[str, Decimal] = {}
MONEY_CACHE_SIZE = 1 << 16


def money_text(text: str) -> Decimal | None:
    """money() of a string, kept: amounts repeat (prices, totals) and Decimal is immutable.
    Compiled code looks into MONEY_CACHE first."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    if len(MONEY_CACHE) >= MONEY_CACHE_SIZE:
        MONEY_CACHE.clear()
    MONEY_CACHE[text] = value
    return value


# Compiled programs hold money as a count of hundredths of the currency unit: an int, which
# compares and adds several times faster than a Decimal. An amount that is not a whole number
# of hundredths (or is very large) stays a Decimal, scaled likewise: ints and Decimals mix
# exactly in comparisons and arithmetic, and the scale cancels in comparisons, in money /
# money and in N x floor(X / M) awards.
UNITS = 100
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_UNITS_MAX = 10 ** 17  # ints stay far from the 28 digits where Decimal arithmetic rounds


def to_units(value: Decimal | None) -> int | Decimal | None:
    """A money amount (from money()) in hundredths: an int when exact and not huge."""
    if value is None or not value.is_finite():
        return value  # None, NaN and infinities behave alike scaled or not
    scaled = value.scaleb(2, _EXACT)
    whole = int(scaled)
    return whole if whole == scaled and -_UNITS_MAX < whole < _UNITS_MAX else scaled


def units(value: Any) -> int | Decimal | None:
    """money(value), in hundredths (a string is kept in UNITS_CACHE)."""
    if type(value) is str:
        return units_text(value)
    return to_units(money(value))


# Compiled code looks up any price here first: only strings are stored, and no string
# equals a value of another type, so a number or a bool always misses.
UNITS_CACHE: dict[str, int | Decimal | None] = {}
TOTALS_CACHE: dict[str, int | Decimal] = {}


def total_units(value: Any) -> int | Decimal:
    """An event total in hundredths; a missing or invalid one is zero (kept for strings in
    TOTALS_CACHE, which compiled code looks up first)."""
    amount = units(value) or 0
    if type(value) is str:
        if len(TOTALS_CACHE) >= MONEY_CACHE_SIZE:
            TOTALS_CACHE.clear()
        TOTALS_CACHE[value] = amount
    return amount


def units_text(text: str) -> int | Decimal | None:
    """units() of a string, kept like money_text(). Compiled code looks into UNITS_CACHE
    first."""
    value = to_units(money(text))
    if len(UNITS_CACHE) >= MONEY_CACHE_SIZE:
        UNITS_CACHE.clear()
    UNITS_CACHE[text] = value
    return value


def divide_units(a, b):
    """money / number (money, in hundredths) or money / money (a number): divide(), exact
    like Decimal division of the unscaled amounts (a power of ten moves no digit)."""
    return Decimal(a) / b if b else 0 * a


def multiply_units(a, b):
    """money * number where the number may come from a division (a float): Decimal money
    refuses a float, so an amount in hundredths must too."""
    if type(a) is float or type(b) is float:
        raise TypeError("money cannot be multiplied by a float")
    return a * b


def number(value: Any) -> int | Decimal | None:
    kind = type(value)
    if kind is int or kind is Decimal:
        return value
    if value is None or kind is bool:
        return None
    return money(value)


@overload
def as_date(value: date) -> date: ...
@overload
def as_date(value: Any) -> date | None: ...
def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


FIELD_READERS = {"text": as_text, "choice": as_text, "number": number, "date": as_date,
                 "bool": as_bool}


def parse_at(value: Any, tz: ZoneInfo) -> datetime:
    """The event's time as an aware datetime in the program timezone; naive = local."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif not isinstance(value, datetime):
        raise ValueError(f"event time {value!r} is neither an ISO string nor a datetime")
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)


# ":MM:SS" of an ISO time: the part of an event time that compiled code may ignore, and the
# slices compiled code takes (made once: Python 3.11 builds a slice object per `s[a:b]`).
MINUTES_SECONDS = frozenset(f":{m:02d}:{s:02d}" for m in range(60) for s in range(60))
TIME_SLICES = (slice(None, 13), slice(13, 19), slice(19, None))
LOCAL_CACHE_SIZE = 1 << 14  # hours per offset
LOCAL_CACHE_OFFSETS = 64


def local_parts(value: Any, tz: ZoneInfo, cache: dict) -> tuple[date, int, datetime | None]:
    """(local date, local hour, parse_at(value, tz)) of an event time.

    Compiled code first looks in `cache`, by the string without its ":MM:SS" (most events
    need only the local date and hour, and events of the same hour share them): what
    follows the seconds (the offset) -> {date and hour ("2026-12-05T10") -> entry}. An
    entry is kept when no minute and second of that hour can change it: the timezone keeps
    one offset through the hour and the hour's first and last second fall in one local hour
    (so the two offsets are whole hours apart). When that holds for the whole day written
    in the string, its 24 hours are kept at once. Cached entries carry no datetime (None):
    the caller parses it when it needs one.
    """
    if type(value) is not str:
        at = parse_at(value, tz)
        return at.date(), at.hour, at
    raw = datetime.fromisoformat(value)
    at = raw.replace(tzinfo=tz) if raw.tzinfo is None else raw.astimezone(tz)
    day, hour = at.date(), at.hour
    # the characters left out of the key are a valid minute and second, and really are them
    if (value[13:19] in MINUTES_SECONDS and value[11:13] == _TWO_DIGITS[raw.hour]
            and value[14:16] == _TWO_DIGITS[raw.minute]
            and value[17:19] == _TWO_DIGITS[raw.second]):
        whole_day = _whole_day(raw, tz)
        if whole_day is not None:
            entries = {value[:11] + _TWO_DIGITS[written]: parts
                       for written, parts in enumerate(whole_day)}
        elif _same_local_hour(raw, tz, at):
            entries = {value[:13]: (day, hour, None)}
        else:
            return day, hour, at
        hours = cache.get(value[19:])
        if hours is None or len(hours) >= LOCAL_CACHE_SIZE:
            if len(cache) >= LOCAL_CACHE_OFFSETS:
                cache.clear()
            hours = cache[value[19:]] = {}
        hours.update(entries)
    return day, hour, at


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_TO_LAST_SECOND = timedelta(0, 3599)
_TO_LAST_SECOND_OF_DAY = timedelta(0, 86399)
_HOURS = tuple(timedelta(0, 3600 * n) for n in range(24))


def _same_local_hour(raw: datetime, tz: ZoneInfo, at: datetime) -> bool:
    """Whether every time of the hour of `raw` (as written, with its own offset) has the
    local date and hour of `at` (its time in `tz`)."""
    if raw.tzinfo is None:
        return True  # local time as written: its date and hour are in the text
    # The first and last second of the hour, with the string's own (fixed) offset. The
    # zone's offset is the same at both ends, so it does not change in between: in the tz
    # database, offset changes of a zone are days apart.
    start = raw - timedelta(0, raw.minute * 60 + raw.second)
    first, last = start.astimezone(tz), (start + _TO_LAST_SECOND).astimezone(tz)
    offset = at.utcoffset()
    return first.utcoffset() == offset == last.utcoffset() and first.hour == last.hour


def _whole_day(raw: datetime, tz: ZoneInfo) -> list[tuple[date, int, None]] | None:
    """The cache entries of the 24 hours of the day written in `raw` (hour 0 first), when
    the timezone keeps one offset through that day and it is whole hours from `raw`'s."""
    if raw.tzinfo is None:  # local time as written
        written = raw.date()
        return [(written, hour, None) for hour in range(24)]
    start = raw - timedelta(0, raw.hour * 3600 + raw.minute * 60 + raw.second)
    first, last = start.astimezone(tz), (start + _TO_LAST_SECOND_OF_DAY).astimezone(tz)
    offset, own = first.utcoffset(), raw.utcoffset()
    if offset is None or own is None or offset != last.utcoffset() or (offset - own) % _HOURS[1]:
        return None  # the zone changes offset that day, or is not whole hours away
    wall = first.replace(tzinfo=None)  # with one offset all day, wall time runs with UTC
    return [((wall + step).date(), (wall + step).hour, None) for step in _HOURS]


def weekday(value: date) -> str:
    return WEEKDAY_CODES[value.weekday()]


def age(born: date | datetime, today: date) -> int:
    born = as_date(born)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def days_since(value: date | datetime, today: date) -> int:
    return (today - as_date(value)).days


def add_months(moment, months: int):
    """Calendar months: 31 January + 1 month is the last day of February."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def shift(moment, amount: int, unit: str):
    """moment + amount units (days, weeks, months, years), on the local calendar."""
    if unit == "days":
        return moment + timedelta(days=amount)
    if unit == "weeks":
        return moment + timedelta(weeks=amount)
    return add_months(moment, amount * (12 if unit == "years" else 1))


def period_bounds(at: datetime, period: str | None) -> tuple[datetime | None, datetime | None]:
    """The calendar period (day, week from Monday, month, year) holding `at`, in its zone."""
    if period is None:
        return None, None
    tz = at.tzinfo
    start = datetime(at.year, at.month, at.day, tzinfo=tz)
    if period == "day":
        return start, start + timedelta(days=1)
    if period == "week":
        start -= timedelta(days=at.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = start.replace(day=1)
        return start, add_months(start, 1)
    start = start.replace(month=1, day=1)
    return start, start.replace(year=start.year + 1)


def floor_points(value) -> int:
    """`award EXPR points` rounds down; zero or less awards nothing."""
    return math.floor(value) if value > 0 else 0


def per_points(points: int, per: Decimal, amount: Decimal | None) -> int:
    """N × ⌊X / M⌋ of `award N points per M CUR of X`."""
    if amount is None or amount <= 0:
        return 0
    return points * int(amount // per)


def keyed_sum(items, attr: str, keys: frozenset, value, start):
    """`sum EXPR for item in ITEMS where item.ATTR in KEYS` (value: EXPR of one item)."""
    total = start
    for item in items:
        if item.get(attr) in keys:
            total = total + value(item)
    return total


class Unsummable:
    """What compiled code keeps as the sum of the items of one key when one of them could not
    be added (a missing price): using it fails, as the sum itself does in the interpreter."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def _fail(self, *_: object):
        raise TypeError("an item of this sum could not be added")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __neg__ = _fail
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = _fail  # type: ignore[assignment]


UNSUMMABLE = Unsummable()
UNREAD = object()  # a profile field compiled code has not read yet


def divide(a, b):
    """Division that never raises: dividing by zero gives zero (documented in README)."""
    return a / b if b else 0 * a


# ---- history helpers used by compiled code ------------------------------------------------


def figure(figures: dict, history, member_id: str, at: datetime, func: str, amount: int,
           unit: str):
    """A history function's value over [at - amount unit, at), asked of `history` once."""
    key = (func, amount, unit)
    if key in figures:
        return figures[key]
    if history is None:
        value = ZERO if func == "spent" else 0
    else:
        value = getattr(history, func)(member_id, shift(at, -amount, unit), at)
    figures[key] = value
    return value


class EventContext:
    """What one evaluation saw: the event, its local time, and history figures it read."""

    __slots__ = ("program", "event", "at", "history", "figures", "reasons")

    def __init__(self, program: Program, event: dict, at: datetime | None, history=None,
                 figures: dict | None = None, reasons: dict | None = None):
        self.program = program
        self.event = event
        self.at = at
        self.history = history
        self.figures = figures  # (function, amount, unit) -> value
        self.reasons = reasons  # rule index -> (kind, data): limits, caps, budgets, groups

    def local_time(self) -> datetime:
        if self.at is None:
            self.at = parse_at(self.event["at"], self.program.tz)
        return self.at

    def figure(self, history, func: str, amount: int, unit: str):
        if self.figures is None:
            self.figures = {}
        member_id = str(self.event["member"]["id"])
        return figure(self.figures, history, member_id, self.local_time(), func, amount, unit)


class Effect:
    """One rule that fired: points (and/or a reward) with a lazily built why-text."""

    __slots__ = ("info", "points", "ctx", "_why")

    def __init__(self, info: RuleInfo, points: int, ctx: EventContext):
        self.info = info
        self.points = points
        self.ctx = ctx
        self._why: str | None = None

    rule = property(lambda self: self.info.name)
    reward = property(lambda self: self.info.reward)
    purpose = property(lambda self: self.info.purpose)

    @property
    def pending(self) -> timedelta | None:
        duration = self.info.pending
        if duration is None:
            return None
        at = self.ctx.local_time()
        return shift(at, duration.amount, duration.unit) - at

    @property
    def why(self) -> str:
        if self._why is None:
            from .explain import why_fired

            self._why = why_fired(self)
        return self._why

    def to_dict(self) -> dict:
        return {"rule": self.rule, "points": self.points, "reward": self.reward,
                "why": self.why}

    def __repr__(self) -> str:
        return f"Effect({self.rule!r}, points={self.points}, reward={self.reward!r})"


class NotFired:
    __slots__ = ("rule", "why")

    def __init__(self, rule: str, why: str):
        self.rule = rule
        self.why = why

    def to_dict(self) -> dict:
        return {"rule": self.rule, "why": self.why}

    def __repr__(self) -> str:
        return f"NotFired({self.rule!r}, {self.why!r})"


class Result:
    """Effects of one event, in rule order.

    The compiled fast path hands over (rule index, points) pairs; Effect objects, why-texts
    and `not_fired` are made when first read, so evaluating stays as cheap as hand-written code.
    """

    # The four fields the generated code always sets live in slots. Each compiled program
    # has its own subclass (for_program) holding the program as a class attribute; history
    # and figures are class defaults (None) that an instance overrides in its dict when it
    # has them, as does what is made when first read (no AttributeError raised).
    __slots__ = ("event", "raw", "at", "reasons", "__dict__")
    program: Program
    event: dict
    raw: list[tuple[int, int]]
    at: datetime | None  # None: parsed from event["at"] when needed
    reasons: dict | None
    history: Any = None
    figures: dict | None = None
    _ctx: EventContext | None = None
    _effects: list[Effect] | None = None
    _not_fired: list[NotFired] | None = None

    @classmethod
    def for_program(cls, program: Program) -> type[Result]:
        """The class of a program's results: Result with `program` set."""
        return type("Result", (cls,), {"__slots__": (), "program": program,
                                       "__module__": cls.__module__,
                                       "__qualname__": cls.__qualname__})

    # The generated code makes a Result with its program's class and sets the slots itself
    # (an __init__ call costs more than the rest of a small program); `make` is for others.
    @classmethod
    def make(cls, program: Program, event: dict, at: datetime | None, history, raw: list,
             figures: dict | None = None, reasons: dict | None = None) -> Result:
        result = cls()
        result.program, result.event, result.at, result.history = program, event, at, history
        result.raw, result.figures, result.reasons = raw, figures, reasons
        return result

    @property
    def ctx(self) -> EventContext:
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = EventContext(self.program, self.event, self.at, self.history,
                                           self.figures, self.reasons)
        return ctx

    @property
    def effects(self) -> list[Effect]:
        effects = self._effects
        if effects is None:
            rules, ctx = self.program.rules, self.ctx
            effects = self._effects = [Effect(rules[index], points, ctx)
                                       for index, points in self.raw]
        return effects

    @property
    def not_fired(self) -> list[NotFired]:
        not_fired = self._not_fired
        if not_fired is None:
            from .explain import why_not_fired

            not_fired = self._not_fired = why_not_fired(self)
        return not_fired

    @property
    def points(self) -> int:
        return sum(points for _, points in self.raw)

    def to_json(self, event_id) -> dict:
        return {"event": event_id, "effects": [e.to_dict() for e in self.effects],
                "not_fired": [n.to_dict() for n in self.not_fired]}

    def __repr__(self) -> str:
        return f"Result(effects={self.effects!r})"


def finish(result: Result) -> Result:
    """Tell the history what was awarded (evaluate calls this once, at the end)."""
    result.history.record(result.event, result.ctx.local_time(), result.effects)
    return result
