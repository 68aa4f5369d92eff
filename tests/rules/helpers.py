"""Small builders for rules tests: a program header, events, members."""

from __future__ import annotations

HEADER = """\
program
  currency EUR
  timezone "Europe/Berlin"
end
purpose loyalty "Loyalty"
  text "Points for purchases."
  basis contract
end
purpose offers "Offers"
  text "Personal offers."
  basis consent
end
field birthday: date "Birthday"
  purposes offers
end
field drink: one of ["coffee", "tea"] "Drink"
  purposes offers
end
tier silver when earned_points(365 days) >= 1000
tier gold when earned_points(365 days) >= 5000
"""
HEADER_LINES = HEADER.count("\n")


def member(tier=None, consents=("loyalty",), profile=None, member_id="m1", **extra):
    return {"id": member_id, "tier": tier, "points": 0, "joined_at": "2025-03-01",
            "consents": list(consents), "profile": profile or {}, **extra}


def purchase(total="10.00", at="2026-12-05T10:15:00+01:00", items=None, event_id="e1",
             **member_args):
    items = items if items is not None else [
        {"sku": "c1", "category": "coffee", "price": total, "quantity": 1}]
    return {"id": event_id, "type": "purchase", "at": at, "member": member(**member_args),
            "purchase": {"total": total, "store": "berlin-1", "items": items}}


def item(category, price="1.00", quantity=1, sku="x"):
    return {"sku": sku, "category": category, "price": price, "quantity": quantity}


def rule(body: str, name: str = "r", event: str = "purchase", purpose: str = "loyalty") -> str:
    """A rule with the given clauses (one per line) appended to the standard header."""
    return f'{HEADER}rule {name} "R"\n  on {event}\n  purpose {purpose}\n{body}\nend\n'
