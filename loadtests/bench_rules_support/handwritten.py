"""The benchmark's 10-rule program (programs.TEN_RULES) written by hand, as a competent
engineer would: straightforward ifs, Decimal money, one pass over the items."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
SILVER_OR_BETTER = {"silver", "gold", "platinum"}
GOLD_OR_BETTER = {"gold", "platinum"}
BAKERY_FROM = datetime(2026, 11, 23).date()
BAKERY_UNTIL = datetime(2027, 1, 31).date()
FIFTY, TWENTY, FIFTEEN, ZERO = Decimal(50), Decimal(20), Decimal(15), Decimal(0)


def _capped(counters: dict | None, key: tuple, cap: int, points: int) -> int:
    """Cut `points` to what remains of `cap` and record it."""
    used = counters.get(key, 0) if counters is not None else 0
    points = min(points, cap - used)
    if points > 0 and counters is not None:
        counters[key] = used + points
    return points


def _within_limit(counters: dict | None, key: tuple, limit: int) -> bool:
    """Whether the rule may fire once more, and count it if so."""
    if counters is None:
        return True
    fired = counters.get(key, 0)
    if fired >= limit:
        return False
    counters[key] = fired + 1
    return True


def award_points(event: dict, counters: dict | None = None) -> dict[str, int]:
    """Points per rule for one event; `counters` keeps caps and limits across events."""
    if event["type"] != "purchase":
        return {}
    purchase = event["purchase"]
    member = event["member"]
    tier = member.get("tier")
    total = Decimal(purchase["total"])
    at = datetime.fromisoformat(event["at"]).astimezone(BERLIN)
    day = at.date()
    member_id = member["id"]

    has_coffee = has_tea = False
    cakes = 0
    bakery_money = ZERO
    categories = set()
    for item in purchase["items"]:
        category = item["category"]
        categories.add(category)
        if category == "coffee":
            has_coffee = True
        elif category == "tea":
            has_tea = True
        elif category == "cake":
            cakes += 1
        elif category == "bread" or category == "pastry":
            bakery_money += Decimal(item["price"]) * item["quantity"]

    points: dict[str, int] = {}
    base = int(total)
    if base > 0:
        points["base_points"] = base
    if total >= FIFTY:
        points["big_basket"] = 25
    if tier in GOLD_OR_BETTER:
        extra = int(total // 2)
        if extra > 0:
            extra = _capped(counters, ("gold_extra", member_id, day), 100, extra)
            if extra > 0:
                points["gold_extra"] = extra
    if tier in SILVER_OR_BETTER and total >= TWENTY:
        points["silver_treat"] = 10
    if has_coffee:
        points["coffee_lover"] = 5
    if cakes >= 2:
        points["cake_pair"] = 15
    if at.weekday() >= 5 and total >= FIFTEEN:
        week = day - timedelta(days=day.weekday())
        if _within_limit(counters, ("weekend_brunch", member_id, week), 1):
            points["weekend_brunch"] = 20
    if 14 <= at.hour < 17 and has_tea:
        tea = _capped(counters, ("tea_time", member_id, day), 30, 10)
        if tea > 0:
            points["tea_time"] = tea
    if "personalised_offers" in member.get("consents", ()):
        favourite = member.get("profile", {}).get("favourite_drink")
        if favourite in categories and _within_limit(
                counters, ("drink_match", member_id, day), 1):
            points["drink_match"] = 8
    if BAKERY_FROM <= day <= BAKERY_UNTIL:
        bakery = int(bakery_money // 2)
        if bakery > 0:
            points["bakery_spend"] = bakery
    return points
