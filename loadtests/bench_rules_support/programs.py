"""Loyalty programs as data: rendered to rules-language text and evaluated by a reference.

A `RuleSpec` is the single source for three things: the rules text the compiler reads,
the row of the zen-engine decision table (zen_table.py), and `reference_points`, a plain
interpreter used to check generated programs of any size.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
TIER_RANK = {None: 0, "silver": 1, "gold": 2, "platinum": 3}
WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@dataclass(frozen=True)
class Purchase:
    """What a condition may look at, read once from a purchase event."""

    total: Decimal
    tier_rank: int
    tier: str | None
    items: list[dict]
    weekday: int  # 0 = Monday
    hour: int
    day: date
    store: str
    consents: frozenset[str]
    profile: dict

    @classmethod
    def of(cls, event: dict) -> Purchase:
        member = event["member"]
        purchase = event["purchase"]
        at = datetime.fromisoformat(event["at"]).astimezone(BERLIN)
        return cls(Decimal(purchase["total"]), TIER_RANK[member.get("tier")], member.get("tier"),
                   purchase["items"], at.weekday(), at.hour, at.date(), purchase["store"],
                   frozenset(member.get("consents", ())), member.get("profile", {}))


def _quote_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


@dataclass(frozen=True)
class Cond:
    """One condition of a rule: `kind` names it, `args` parametrise it."""

    kind: str
    args: tuple

    def text(self) -> str:
        a = self.args
        return {
            "total_ge": lambda: f"purchase.total >= {a[0]} EUR",
            "tier_ge": lambda: f"member.tier >= {a[0]}",
            "tier_eq": lambda: f"member.tier == {a[0]}",
            "any_cat": lambda: f'(any item in purchase.items where item.category == "{a[0]}")',
            "count_cat_ge": lambda: (f'(count item in purchase.items where item.category == '
                                     f'"{a[0]}") >= {a[1]}'),
            "qty_cat_ge": lambda: (f"(sum item.quantity for item in purchase.items where "
                                   f'item.category == "{a[0]}") >= {a[1]}'),
            "weekday_in": lambda: f"weekday(purchase.date) in [{', '.join(a[0])}]",
            "hour_between": lambda: f"hour(purchase.at) >= {a[0]} and hour(purchase.at) < {a[1]}",
            "store_in": lambda: f"purchase.store in {_quote_list(a[0])}",
            "store_eq": lambda: f'purchase.store == "{a[0]}"',
            "any_cat_in": lambda: (f"(any item in purchase.items where item.category in "
                                   f"{_quote_list(a[0])})"),
            "any_sku": lambda: (f"(any item in purchase.items where item.sku in "
                                f"{_quote_list(a[0])})"),
            "weekday_eq": lambda: f"weekday(purchase.date) == {a[0]}",
            "fav_match": lambda: ("(any item in purchase.items where "
                                  "item.category == member.favourite_drink)"),
        }[self.kind]()

    def holds(self, p: Purchase) -> bool:
        a = self.args
        kind = self.kind
        if kind == "total_ge":
            return p.total >= Decimal(a[0])
        if kind == "tier_ge":
            return p.tier_rank >= TIER_RANK[a[0]]
        if kind == "tier_eq":
            return p.tier == a[0]
        if kind == "any_cat":
            return any(i["category"] == a[0] for i in p.items)
        if kind == "count_cat_ge":
            return sum(1 for i in p.items if i["category"] == a[0]) >= a[1]
        if kind == "qty_cat_ge":
            return sum(i["quantity"] for i in p.items if i["category"] == a[0]) >= a[1]
        if kind == "weekday_in":
            return WEEKDAYS[p.weekday] in a[0]
        if kind == "hour_between":
            return a[0] <= p.hour < a[1]
        if kind == "store_in":
            return p.store in a[0]
        if kind == "store_eq":
            return p.store == a[0]
        if kind == "any_cat_in":
            return any(i["category"] in a[0] for i in p.items)
        if kind == "any_sku":
            return any(i["sku"] in a[0] for i in p.items)
        if kind == "weekday_eq":
            return WEEKDAYS[p.weekday] == a[0]
        if kind == "fav_match":
            favourite = p.profile.get("favourite_drink")
            return favourite is not None and any(i["category"] == favourite for i in p.items)
        raise ValueError(kind)


@dataclass(frozen=True)
class Award:
    """`fixed` N points, `per_eur` N per M EUR of the total, or `per_eur_cat` of some items."""

    kind: str
    points: int
    per: int = 1
    categories: tuple[str, ...] = ()

    def text(self) -> str:
        unit = "point" if self.points == 1 else "points"
        if self.kind == "fixed":
            return f"award {self.points} {unit}"
        if self.kind == "per_eur":
            return f"award {self.points} {unit} per {self.per} EUR of purchase.total"
        return (f"award {self.points} {unit} per {self.per} EUR of sum item.price * item.quantity"
                f" for item in purchase.items where item.category in "
                f"{_quote_list(self.categories)}")

    def amount(self, p: Purchase) -> int:
        if self.kind == "fixed":
            return self.points
        if self.kind == "per_eur":
            money = p.total
        else:
            money = sum((Decimal(i["price"]) * i["quantity"] for i in p.items
                         if i["category"] in self.categories), Decimal(0))
        return self.points * int(money // self.per)


@dataclass(frozen=True)
class RuleSpec:
    name: str
    title: str
    conds: tuple[Cond, ...]
    award: Award
    purpose: str = "loyalty"
    cap: tuple[int, str | None] | None = None
    limit: tuple[int, str | None] | None = None
    valid: tuple[date, date] | None = None
    reads: tuple[str, ...] = field(default=())

    def text(self) -> str:
        lines = [f'rule {self.name} "{self.title}"', "  on purchase", f"  purpose {self.purpose}"]
        if self.reads:
            lines.append(f"  reads {', '.join(self.reads)}")
        if self.conds:
            lines.append("  when " + "\n   and ".join(c.text() for c in self.conds))
        lines.append("  " + self.award.text())
        for clause, bound in (("cap", self.cap), ("limit", self.limit)):
            if bound:
                unit = " points" if clause == "cap" else ""
                per = f" per {bound[1]}" if bound[1] else ""
                lines.append(f"  {clause} {bound[0]}{unit} per member{per}")
        if self.valid:
            lines.append(f"  valid from {self.valid[0]} until {self.valid[1]}")
        lines.append("end")
        return "\n".join(lines)


HEADER = """\
# Generated by loadtests/bench_rules.py: {count} rules.
program
  currency EUR
  timezone "Europe/Berlin"
end

purpose loyalty "Loyalty programme"
  text "We record your purchases to credit and redeem points."
  basis contract
  dpv CustomerRelationshipManagement
end

tier silver when earned_points(365 days) >= 1000
tier gold when earned_points(365 days) >= 5000
tier platinum when earned_points(365 days) >= 15000
"""

PERSONAL = """
purpose personalised_offers "Personal offers"
  text "We use the details you share to give you personal bonuses."
  basis consent
  dpv PersonalisedBenefits
end

field favourite_drink: one of ["coffee", "tea", "cocoa", "iced_drink"] "Favourite drink"
  ask "What do you drink most often?"
  category Favourite
  purposes personalised_offers
end
"""


def render_program(rules: list[RuleSpec]) -> str:
    """The rules-language text of a program made of these purchase rules."""
    parts = [HEADER.format(count=len(rules))]
    if any(r.purpose == "personalised_offers" for r in rules):
        parts.append(PERSONAL)
    parts.extend("\n" + r.text() + "\n" for r in rules)
    return "".join(parts)


def period_key(period: str | None, day: date) -> object:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return (day.year, day.month)
    if period == "year":
        return day.year
    return None


def reference_points(rules: list[RuleSpec], event: dict,
                     counters: dict | None = None) -> dict[str, int]:
    """Points per rule that fires, by a plain interpretation of the specs.

    `counters` (a dict kept across events) counts caps and limits per member; without it,
    only a cap that one award exceeds has an effect.
    """
    if event["type"] != "purchase":
        return {}
    p = Purchase.of(event)
    fired: dict[str, int] = {}
    for rule in rules:
        if rule.purpose != "loyalty" and rule.purpose not in p.consents:
            continue
        if rule.valid and not rule.valid[0] <= p.day <= rule.valid[1]:
            continue
        if not all(c.holds(p) for c in rule.conds):
            continue
        points = rule.award.amount(p)
        if points <= 0:
            continue
        member = event["member"]["id"]
        if rule.limit:
            key = ("limit", member, rule.name, period_key(rule.limit[1], p.day))
            if counters is not None and counters.get(key, 0) >= rule.limit[0]:
                continue
        if rule.cap:
            cap_key = ("cap", member, rule.name, period_key(rule.cap[1], p.day))
            used = counters.get(cap_key, 0) if counters is not None else 0
            points = min(points, rule.cap[0] - used)
            if points <= 0:
                continue
            if counters is not None:
                counters[cap_key] = used + points
        if rule.limit and counters is not None:
            counters[key] = counters.get(key, 0) + 1
        fired[rule.name] = points
    return fired


# The 10-rule program that handwritten.py implements by hand.
TEN_RULES: list[RuleSpec] = [
    RuleSpec("base_points", "1 point per euro", (), Award("per_eur", 1, 1)),
    RuleSpec("big_basket", "Basket of 50 EUR or more", (Cond("total_ge", ("50",)),),
             Award("fixed", 25)),
    RuleSpec("gold_extra", "Gold: 1 more point per 2 EUR", (Cond("tier_ge", ("gold",)),),
             Award("per_eur", 1, 2), cap=(100, "day")),
    RuleSpec("silver_treat", "Silver and up: 10 points from 20 EUR",
             (Cond("tier_ge", ("silver",)), Cond("total_ge", ("20",))), Award("fixed", 10)),
    RuleSpec("coffee_lover", "Coffee in the basket", (Cond("any_cat", ("coffee",)),),
             Award("fixed", 5)),
    RuleSpec("cake_pair", "Two cakes or more", (Cond("count_cat_ge", ("cake", 2)),),
             Award("fixed", 15)),
    RuleSpec("weekend_brunch", "Weekend brunch",
             (Cond("weekday_in", (("SAT", "SUN"),)), Cond("total_ge", ("15",))),
             Award("fixed", 20), limit=(1, "week")),
    RuleSpec("tea_time", "Tea time, 2 to 5 pm",
             (Cond("hour_between", (14, 17)), Cond("any_cat", ("tea",))),
             Award("fixed", 10), cap=(30, "day")),
    RuleSpec("drink_match", "Your favourite drink", (Cond("fav_match", ()),), Award("fixed", 8),
             purpose="personalised_offers", reads=("favourite_drink",), limit=(1, "day")),
    RuleSpec("bakery_spend", "1 point per 2 EUR of bread and pastry", (),
             Award("per_eur_cat", 1, 2, ("bread", "pastry")),
             valid=(date(2026, 11, 23), date(2027, 1, 31))),
]

CATEGORIES = ["coffee", "tea", "cocoa", "cake", "pastry", "bread", "sandwich", "salad"]
ALL_CATEGORIES = CATEGORIES + ["iced_drink", "stollen", "merch"]
STORES = ["berlin-mitte", "berlin-kreuzberg", "berlin-pankow", "potsdam-1", "potsdam-2"]
SKUS = ["espresso", "cappuccino", "latte", "filter-coffee", "black-tea", "chai", "cocoa",
        "iced-latte", "cheesecake", "apple-pie", "black-forest", "croissant", "cinnamon-roll",
        "pretzel", "rye-bread", "sourdough", "rolls-6", "club-sandwich", "bagel", "green-salad",
        "stollen-750", "beans-250", "mug"]

# A real programme of hundreds of rules is mostly promotions: for one store, one category or
# product, a weekday or an hour, a tier, and a date window somewhere in the year. Each
# generated rule (but the first, base points) carries one or two such selective guards and
# usually a validity window spread over the year, so only a handful apply to one purchase.
GUARD_KINDS = ["store", "category", "sku", "weekday", "hour", "tier"]
GUARD_WEIGHTS = [22, 18, 26, 12, 10, 12]
EXTRA_KINDS = ["total_ge", "tier_ge", "count_cat_ge", "qty_cat_ge", "store_in", "weekday_in"]
EXTRA_WEIGHTS = [40, 15, 10, 10, 10, 15]
YEAR_START = date(2026, 1, 1)


def _guard(rng: random.Random, kind: str) -> list[Cond]:
    if kind == "store":
        return [Cond("store_eq", (rng.choice(STORES),))]
    if kind == "category":
        if rng.random() < 0.7:
            return [Cond("any_cat", (rng.choice(ALL_CATEGORIES),))]
        return [Cond("any_cat_in", (tuple(sorted(rng.sample(ALL_CATEGORIES, 2))),))]
    if kind == "sku":
        return [Cond("any_sku", (tuple(sorted(rng.sample(SKUS, rng.choice([1, 1, 2])))),))]
    if kind == "weekday":
        return [Cond("weekday_eq", (rng.choice(WEEKDAYS),))]
    if kind == "hour":
        start = rng.choice([7, 8, 10, 12, 14, 16, 18])
        return [Cond("hour_between", (start, start + rng.choice([1, 2])))]
    return [Cond("tier_eq", (rng.choice(["silver", "gold", "platinum"]),))]


CATEGORIES = ["coffee", "tea", "cocoa", "cake", "pastry", "bread", "sandwich", "salad"]


def _random_cond(rng: random.Random, kind: str) -> Cond:
    if kind == "total_ge":
        return Cond(kind, (str(rng.choice([5, 10, 15, 20, 25, 30, 40, 50, 75])),))
    if kind in ("tier_ge", "tier_eq"):
        return Cond(kind, (rng.choice(["silver", "gold", "platinum"]),))
    if kind == "any_cat":
        return Cond(kind, (rng.choice(CATEGORIES),))
    if kind in ("count_cat_ge", "qty_cat_ge"):
        return Cond(kind, (rng.choice(CATEGORIES), rng.choice([2, 2, 3, 4])))
    if kind == "weekday_in":
        days = rng.choice([("SAT", "SUN"), ("MON", "TUE", "WED"), ("FRI",), ("THU", "FRI")])
        return Cond(kind, (days,))
    if kind == "hour_between":
        start = rng.choice([7, 8, 10, 12, 14, 16])
        return Cond(kind, (start, start + rng.choice([1, 2, 3])))
    return Cond(kind, (tuple(sorted(rng.sample(STORES, 2))),))


COND_KINDS = ["total_ge", "tier_ge", "tier_eq", "any_cat", "count_cat_ge", "qty_cat_ge",
              "weekday_in", "hour_between", "store_in"]
COND_WEIGHTS = [20, 10, 4, 20, 8, 6, 10, 10, 6]


def generate_rules(count: int, *, seed: int = 7) -> list[RuleSpec]:
    """`count` purchase rules shaped like a real programme (see GUARD_KINDS): rule 0 gives
    base points on every purchase; the others are promotions with selective guards."""
    rng = random.Random(seed * 1000 + count)
    rules = [RuleSpec("r000_base", "Generated rule 0: base points", (), Award("per_eur", 1, 1))]
    for index in range(1, count):
        kinds = [rng.choices(GUARD_KINDS, GUARD_WEIGHTS)[0]]
        if rng.random() < 0.7:
            second = rng.choices(GUARD_KINDS, GUARD_WEIGHTS)[0]
            if second not in kinds:
                kinds.append(second)
        conds = [c for kind in kinds for c in _guard(rng, kind)]
        if rng.random() < 0.6:
            extra = rng.choices(EXTRA_KINDS, EXTRA_WEIGHTS)[0]
            conds.append(_random_cond(rng, extra))
        purpose = "loyalty"
        reads: tuple[str, ...] = ()
        if rng.random() < 0.1:
            purpose = "personalised_offers"
            if rng.random() < 0.5:
                conds.append(Cond("fav_match", ()))
                reads = ("favourite_drink",)
        roll = rng.random()
        if roll < 0.6:
            award = Award("fixed", rng.choice([2, 5, 10, 15, 20, 25, 50]))
        elif roll < 0.85:
            award = Award("per_eur", rng.choice([1, 2, 3]), rng.choice([1, 2, 5, 10]))
        else:
            award = Award("per_eur_cat", rng.choice([1, 2]), rng.choice([1, 2, 5]),
                          tuple(sorted(rng.sample(CATEGORIES, 2))))
        cap = limit = valid = None
        if rng.random() < 0.15:
            cap = (rng.choice([20, 30, 50, 100]), rng.choice(["day", "week", "month"]))
        if rng.random() < 0.15:
            limit = (rng.choice([1, 2, 3]), rng.choice(["day", "week", None]))
        if rng.random() < 0.9:
            start = YEAR_START + timedelta(days=rng.randrange(365))
            valid = (start, start + timedelta(days=rng.choice([6, 13, 30, 60])))
        rules.append(RuleSpec(f"r{index:03d}_{kinds[0]}", f"Generated rule {index}",
                              tuple(conds), award, purpose, cap, limit, valid, reads))
    return rules
