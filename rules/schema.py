"""What the language knows about events, members and functions (types are short strings)."""

from __future__ import annotations

EVENTS = ("purchase", "return", "signup", "profile_shared", "consent_given", "referral")

# Every event has `at` (its time in the program timezone) and `date` (its local date).
EVENT_ATTRS: dict[str, dict[str, str]] = {
    "purchase": {"total": "money", "store": "text", "items": "list:item"},
    "return": {"total": "money", "store": "text"},
    "signup": {"channel": "text"},
    "profile_shared": {"field": "text"},
    "consent_given": {"purpose": "text", "channel": "text"},
    "referral": {"referee": "text"},
}
COMMON_ATTRS = {"at": "time", "date": "date"}
ITEM_ATTRS = {"sku": "text", "category": "text", "price": "money", "quantity": "number"}
MEMBER_ATTRS = {"tier": "tier", "points": "number", "joined_at": "date"}

FIELD_TYPES = {"text": "text", "number": "number", "date": "date", "bool": "bool", "choice": "text"}

# name: (argument types accepted, result type)
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "year": (("date", "time"), "number"),
    "month": (("date", "time"), "number"),
    "day": (("date", "time"), "number"),
    "weekday": (("date", "time"), "weekday"),
    "hour": (("time",), "number"),
    "age": (("date", "time"), "number"),
    "days_since": (("date", "time"), "number"),
    "purchases": (("duration",), "number"),
    "spent": (("duration",), "money"),
    "earned_points": (("duration",), "number"),
}
HISTORY_FUNCTIONS = frozenset({"purchases", "spent", "earned_points"})

BASES = ("contract", "consent", "legitimate_interest", "legal_obligation")
CHANNELS = ("email", "sms", "post", "phone", "push")
PERIODS = ("day", "week", "month", "year")

TYPE_WORDS = {
    "number": "a number",
    "money": "money",
    "text": "text",
    "date": "a date",
    "time": "a time",
    "bool": "a condition",
    "weekday": "a weekday",
    "duration": "a duration",
    "tier": "a tier",
    "item": "an item",
}


def describe(ty: str) -> str:
    if ty.startswith("list:"):
        return "a list"
    return TYPE_WORDS.get(ty, ty)
