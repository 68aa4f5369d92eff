"""Deterministic events for the rules benchmark, shaped like lines of EVENTS.jsonl."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

# All generated events fall between 2026-11-23 and 2026-12-31: Berlin is on CET (+01:00).
CET = timezone(timedelta(hours=1))
FIRST_DAY = date(2026, 11, 23)
DAYS = 39

# (sku, category, unit price) of a café/bakery range.
CATALOGUE: list[tuple[str, str, str]] = [
    ("espresso", "coffee", "2.20"), ("cappuccino", "coffee", "3.40"),
    ("latte", "coffee", "3.80"), ("filter-coffee", "coffee", "2.60"),
    ("black-tea", "tea", "2.50"), ("chai", "tea", "3.60"), ("cocoa", "cocoa", "3.20"),
    ("iced-latte", "iced_drink", "4.20"), ("cheesecake", "cake", "4.10"),
    ("apple-pie", "cake", "3.90"), ("black-forest", "cake", "4.60"),
    ("croissant", "pastry", "1.90"), ("cinnamon-roll", "pastry", "2.80"),
    ("pretzel", "pastry", "1.20"), ("rye-bread", "bread", "4.20"),
    ("sourdough", "bread", "5.10"), ("rolls-6", "bread", "3.00"),
    ("club-sandwich", "sandwich", "6.90"), ("bagel", "sandwich", "4.80"),
    ("green-salad", "salad", "7.50"), ("stollen-750", "stollen", "14.90"),
    ("beans-250", "merch", "8.90"), ("mug", "merch", "12.00"),
]
STORES = ["berlin-mitte", "berlin-kreuzberg", "berlin-pankow", "potsdam-1", "potsdam-2"]
TIERS: list[str | None] = [None, "silver", "gold", "platinum"]
TIER_WEIGHTS = [45, 30, 18, 7]
OPTIONAL_PURPOSES = {
    "personalised_offers": 0.40, "newsletter": 0.30, "push_notifications": 0.20,
    "analytics": 0.15,
}
EVENT_TYPES = ["purchase", "return", "signup", "profile_shared", "consent_given", "referral"]
EVENT_WEIGHTS = [90, 3, 2, 2, 2, 1]
PROFILE_FIELDS = ["birthday", "favourite_drink", "dietary_preference", "household_size",
                  "postcode", "visit_reason"]


def _profile(rng: random.Random) -> dict[str, object]:
    profile: dict[str, object] = {}
    if rng.random() < 0.5:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        profile["birthday"] = born.isoformat()
    if rng.random() < 0.4:
        profile["favourite_drink"] = rng.choice(["coffee", "tea", "cocoa", "iced_drink"])
    if rng.random() < 0.25:
        profile["dietary_preference"] = rng.choice(["no_preference", "vegetarian", "vegan"])
    if rng.random() < 0.25:
        profile["household_size"] = rng.choice([1, 1, 2, 2, 3, 4, 5])
    if rng.random() < 0.35:
        profile["postcode"] = rng.choice(["10115", "10117", "10119", "10999", "13187", "14467"])
    if rng.random() < 0.2:
        profile["visit_reason"] = rng.choice(
            ["commute", "work", "meeting_friends", "family", "takeaway"])
    return profile


def make_members(rng: random.Random, count: int) -> list[dict[str, object]]:
    """Members as an event carries them: tier, points and consents as of the event."""
    members: list[dict[str, object]] = []
    for number in range(1, count + 1):
        consents = ["loyalty"] + [
            purpose for purpose, share in OPTIONAL_PURPOSES.items() if rng.random() < share]
        joined = date(2022, 1, 1) + timedelta(days=rng.randrange(1765))
        members.append({
            "id": f"m{number:05d}",
            "tier": rng.choices(TIERS, TIER_WEIGHTS)[0],
            "points": rng.randrange(20000),
            "joined_at": joined.isoformat(),
            "consents": consents,
            "profile": _profile(rng) if "personalised_offers" in consents else {},
        })
    return members


def _items(rng: random.Random) -> list[dict[str, Any]]:
    items = []
    for _ in range(rng.choices([1, 2, 3, 4, 5, 6, 8], [20, 28, 22, 13, 8, 6, 3])[0]):
        sku, category, price = rng.choice(CATALOGUE)
        quantity = rng.choices([1, 2, 3, 6], [80, 13, 5, 2])[0]
        items.append({"sku": sku, "category": category, "price": price, "quantity": quantity})
    return items


def _payload(rng: random.Random, kind: str, members: list[dict[str, object]]) -> dict:
    if kind == "purchase":
        items = _items(rng)
        total = sum((Decimal(i["price"]) * i["quantity"] for i in items), Decimal("0"))
        return {"total": str(total), "store": rng.choice(STORES), "items": items}
    if kind == "return":
        return {"total": str(Decimal(rng.randrange(150, 3000)) / 100)}
    if kind == "signup":
        return {"channel": rng.choice(["app", "web", "till"])}
    if kind == "profile_shared":
        return {"field": rng.choice(PROFILE_FIELDS)}
    if kind == "consent_given":
        purpose = rng.choice(list(OPTIONAL_PURPOSES))
        channel = {"newsletter": rng.choice(["email", "post"]),
                   "push_notifications": "push"}.get(purpose)
        return {"purpose": purpose, "channel": channel}
    return {"referee": rng.choice(members)["id"]}


def _local_time(rng: random.Random) -> datetime:
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    hour = rng.choices(range(7, 20), [6, 9, 10, 8, 7, 9, 8, 6, 9, 8, 6, 4, 3])[0]
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60),
                    rng.randrange(60), tzinfo=CET)


def make_events(count: int, *, seed: int = 20261123, members: int = 1500) -> list[dict]:
    """`count` events in time order, mostly purchases, from a fixed pool of members."""
    rng = random.Random(seed)
    pool = make_members(rng, members)
    times = sorted(_local_time(rng) for _ in range(count))
    events = []
    for number, at in enumerate(times, start=1):
        kind = rng.choices(EVENT_TYPES, EVENT_WEIGHTS)[0]
        member = rng.choice(pool)
        if kind == "consent_given":
            payload = _payload(rng, kind, pool)
            # The event reports the member's consents after the grant.
            consents = cast(list[str], member["consents"])
            member = dict(member, consents=sorted({*consents, payload["purpose"]}))
        else:
            payload = _payload(rng, kind, pool)
        events.append({"id": f"e{number:06d}", "type": kind, "at": at.isoformat(),
                       "member": member, kind: payload})
    return events
